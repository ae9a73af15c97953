"""Room events (joined, admitted, left, recording, quality) fanned out to Server-Sent Events.

Each listener has a small bounded queue; a listener too slow to keep up is cut off rather than
allowed to hold memory, and its client reconnects (EventSource does so on its own).
"""

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

QUEUE_SIZE = 256
KEEPALIVE_SECONDS = 15.0  # under the gateway's 30 s read timeout


class RoomEvents:
    def __init__(self) -> None:
        self._listeners: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any] | None]]] = defaultdict(
            set
        )

    def publish(self, room_id: uuid.UUID, event: str, **data: Any) -> None:
        message = {"event": event, "room_id": str(room_id), **data}
        for queue in list(self._listeners.get(room_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._listeners[room_id].discard(queue)
                _hang_up(queue)

    def close_room(self, room_id: uuid.UUID) -> None:
        for queue in self._listeners.pop(room_id, set()):
            _hang_up(queue)

    def close(self) -> None:
        for room_id in list(self._listeners):
            self.close_room(room_id)

    def listeners(self, room_id: uuid.UUID) -> int:
        return len(self._listeners.get(room_id, ()))

    async def stream(
        self, room_id: uuid.UUID, first: dict[str, Any] | None = None
    ) -> AsyncIterator[str]:
        """SSE text: `first` (the current state), then events until the room closes."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._listeners[room_id].add(queue)
        try:
            if first is not None:
                yield _sse(first)
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if message is None:
                    return
                yield _sse(message)
        finally:
            listeners = self._listeners.get(room_id)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._listeners[room_id]


def _hang_up(queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Empties the queue and leaves the end marker, which its stream ends on."""
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)


def _sse(message: dict[str, Any]) -> str:
    return f"event: {message['event']}\ndata: {json.dumps(message, default=str)}\n\n"
