"""The live side of wards, in the instance that owns them: each bed's picture (a tablet's
peer connection or an IP camera's stream), the overview's viewers and what each of their
slots shows, and the roster of wards and beds the monitoring job (`monitor.py`) rereads.

A viewer's grid slots get keyframes only; the bed opened full-size gets every frame; an
empty bed is linked to nobody. Links are worked out again (`relink`) whenever a picture comes
or goes, a viewer joins or focuses, or the roster changes, and only changed slots switch.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from services.common.db import Database
from services.common.errors import BadRequest, Conflict, Forbidden, NotFound
from services.video.events import RoomEvents
from services.video.media import Feed, MediaHub, Publication, Session
from services.video.settings import VideoSettings
from services.video.tokens import JoinClaims
from services.video.wards.enums import SOURCE_CODECS, SourceKind
from services.video.wards.models import Bed, Ward

logger = logging.getLogger("telemed.video.wards")
# A viewer's video receive slots, in the offer's order: the full-size bed on VP8 (tablets) and
# on H.264 (IP cameras), then one grid tile per bed of the ward in the roster's order.
FOCUS_SLOTS = ("video/vp8", "video/h264")


class Picture(Protocol):
    """A bed's live video, from either kind of source."""

    @property
    def last_frame_at(self) -> float | None: ...

    def subscribe(self, codec: str | None = None, *, keyframes_only: bool = False) -> Feed: ...

    def request_keyframe(self) -> None: ...


@dataclass(frozen=True)
class BedEntry:
    """What the live side needs of a bed, read from the database."""

    id: uuid.UUID
    ward_id: uuid.UUID
    label: str
    occupied: bool
    source: SourceKind
    rtsp_url: str | None
    device_secret_hash: str | None
    recording_consent: bool

    @property
    def monitored(self) -> bool:
        """A bed whose picture is expected: a patient is in it and a source is set up."""
        has_source = (
            bool(self.rtsp_url) if self.source is SourceKind.RTSP else bool(self.device_secret_hash)
        )
        return self.occupied and has_source

    @classmethod
    def of(cls, bed: Bed) -> "BedEntry":
        return cls(
            bed.id, bed.ward_id, bed.label, bed.patient_ref is not None, bed.source,
            bed.rtsp_url, bed.device_secret_hash, bed.recording_consent,
        )  # fmt: skip


@dataclass(frozen=True)
class WardEntry:
    id: uuid.UUID
    organization_id: uuid.UUID
    watcher_ids: tuple[uuid.UUID, ...]
    beds: tuple[BedEntry, ...]
    recording_allowed: bool

    @classmethod
    def of(cls, ward: Ward) -> "WardEntry":
        beds = tuple(BedEntry.of(bed) for bed in sorted(ward.beds, key=lambda b: b.label))
        return cls(
            ward.id, ward.organization_id, tuple(ward.watcher_ids), beds, ward.recording_allowed
        )

    def may_record(self, bed: BedEntry) -> str | None:
        """Why the bed's video may not be recorded, or None when it may."""
        if not self.recording_allowed:
            return "The ward does not allow recording."
        if not bed.occupied:
            return "The bed is empty."
        if not bed.recording_consent:
            return "The bed's patient has not consented to recording."
        return None

    def bed(self, bed_id: uuid.UUID) -> BedEntry | None:
        return next((bed for bed in self.beds if bed.id == bed_id), None)

    def watched_by(self, organization_id: uuid.UUID | None) -> bool:
        """Whether the organisation's doctors may watch: the hospital's own, or by agreement."""
        return organization_id == self.organization_id or organization_id in self.watcher_ids


@dataclass
class Viewer:
    """One person's overview of one ward: a peer connection whose slots show its beds."""

    id: uuid.UUID
    ward_id: uuid.UUID
    identity: str
    organization_id: uuid.UUID | None
    session: Session
    tiles: dict[str, uuid.UUID] = field(default_factory=dict)  # slot mid -> bed
    focus_bed: uuid.UUID | None = None
    focus_since: float = 0.0
    talking: bool = False
    linked: dict[str, Picture | None] = field(default_factory=dict)  # slot mid -> its source


# What one slot should carry: the source, whose it is (a bed's or a viewer's id, so that the
# hub unlinks it when that connection goes), and whether keyframes alone.
Wanted = dict[str, tuple[Picture | None, uuid.UUID | None, bool]]


@dataclass
class WardsLive:
    settings: VideoSettings
    database: Database
    events: RoomEvents = field(default_factory=RoomEvents)  # by ward id, and by bed id
    rosters: dict[uuid.UUID, WardEntry] = field(default_factory=dict)
    pictures: dict[uuid.UUID, Picture] = field(default_factory=dict)  # by bed id
    viewers: dict[uuid.UUID, Viewer] = field(default_factory=dict)
    # A bed's last frame (monotonic) from a picture since gone, for its alarm's record.
    last_frames: dict[uuid.UUID, float] = field(default_factory=dict)
    # What each tablet's voice slot is linked to, by bed id.
    voices: dict[uuid.UUID, dict[str, Picture | None]] = field(default_factory=dict)
    hub: MediaHub = field(init=False)

    def __post_init__(self) -> None:
        self.hub = MediaHub(
            heartbeat_timeout=self.settings.heartbeat_timeout,
            connect_timeout=self.settings.connect_timeout,
            on_vanished=self._vanished,
            forward_encoded=True,
        )

    # --- bedside sources ---------------------------------------------------------------

    async def connect_tablet(self, bed: BedEntry, offer_sdp: str) -> str:
        """The tablet publishes its camera (and microphone, when talking) and receives one
        audio slot: the voice of the doctor talking to the bed. A reconnect replaces the
        previous connection."""
        if bed.source is not SourceKind.TABLET:
            raise Conflict("This bed's picture comes from an IP camera, not a tablet.")
        answer = await self.hub.connect(
            bed.ward_id, bed.id, f"bed:{bed.id}", offer_sdp, admitted=False
        )
        session = self.hub.sessions[bed.id]
        video = session.publications.get("video")
        if video is None:
            await self.hub.disconnect(bed.id)
            raise BadRequest("The tablet's offer must send video.")
        self.pictures[bed.id] = video
        self.relink(bed.ward_id)
        return answer

    def attach_picture(self, bed: BedEntry, picture: Picture) -> None:
        """An IP camera's stream started (`rtsp.py`)."""
        self.pictures[bed.id] = picture
        self.relink(bed.ward_id)

    def detach_picture(self, bed_id: uuid.UUID, ward_id: uuid.UUID) -> None:
        picture = self.pictures.pop(bed_id, None)
        if picture is not None:
            if picture.last_frame_at is not None:
                self.last_frames[bed_id] = picture.last_frame_at
            self.relink(ward_id)

    def last_frame_at(self, bed_id: uuid.UUID) -> float | None:
        picture = self.pictures.get(bed_id)
        last = picture.last_frame_at if picture is not None else None
        return last if last is not None else self.last_frames.get(bed_id)

    # --- viewers -------------------------------------------------------------------------

    async def connect_viewer(
        self, ward: WardEntry, claims: JoinClaims, offer_sdp: str
    ) -> tuple[Viewer, str]:
        """The viewer and the SDP answer."""
        if not ward.watched_by(claims.organization_id):
            raise Forbidden("Your organisation no longer watches this ward.")
        identity = claims.identity
        viewer_id = uuid.uuid4()
        codecs = [*FOCUS_SLOTS, *(SOURCE_CODECS[bed.source] for bed in ward.beds)]
        answer = await self.hub.connect(
            ward.id, viewer_id, identity, offer_sdp, admitted=False, slot_codecs=codecs
        )
        session = self.hub.sessions[viewer_id]
        video = [slot for slot in session.slots if slot.kind == "video" and slot.mid]
        if len(video) < len(FOCUS_SLOTS):
            await self.hub.disconnect(viewer_id)
            raise BadRequest(
                "The offer needs two video receive slots for the full-size bed (VP8, H.264) "
                "before one per bed."
            )
        viewer = Viewer(viewer_id, ward.id, identity, claims.organization_id, session)
        viewer.tiles = {
            str(slot.mid): bed.id
            for slot, bed in zip(video[len(FOCUS_SLOTS) :], ward.beds, strict=False)
        }
        self.viewers[viewer_id] = viewer
        self.relink(ward.id)
        return viewer, answer

    def viewer(self, ward_id: uuid.UUID, viewer_id: uuid.UUID, identity: str) -> Viewer:
        viewer = self.viewers.get(viewer_id)
        if viewer is None or viewer.ward_id != ward_id or viewer.identity != identity:
            raise NotFound("No such viewer of yours.")
        return viewer

    def focus(self, viewer: Viewer, bed_id: uuid.UUID | None) -> tuple[uuid.UUID | None, float]:
        """Opens a bed full-size (or closes it); answers the bed shown until now and for how
        many seconds, for the audit trail."""
        if bed_id is not None:
            ward = self.rosters.get(viewer.ward_id)
            bed = ward.bed(bed_id) if ward is not None else None
            if bed is None:
                raise NotFound("No such bed in this ward.")
            if not bed.occupied:
                raise Conflict("The bed is empty: there is nothing to show.")
        previous, seconds = viewer.focus_bed, time.monotonic() - viewer.focus_since
        viewer.focus_bed, viewer.focus_since = bed_id, time.monotonic()
        viewer.talking = False
        self.relink(viewer.ward_id)
        self._tell_talk(previous)
        return previous, seconds

    def talk(self, viewer: Viewer, talking: bool) -> uuid.UUID:
        if viewer.focus_bed is None:
            raise Conflict("Open a bed full-size to talk to it.")
        if talking and self.hub.sessions.get(viewer.focus_bed) is None:
            raise Conflict("The bed has no tablet connected to talk through.")
        if talking and "audio" not in viewer.session.publications:
            raise Conflict("Your connection sends no microphone.")
        viewer.talking = talking
        self.relink(viewer.ward_id)
        self._tell_talk(viewer.focus_bed)
        return viewer.focus_bed

    def _tell_talk(self, bed_id: uuid.UUID | None) -> None:
        """The tablet turns its microphone on while someone talks to the bed, and off after."""
        if bed_id is not None:
            talking = any(v.talking and v.focus_bed == bed_id for v in self.viewers.values())
            self.events.publish(bed_id, "bed.talk", talking=talking)

    async def end_lapsed_viewings(self, ward_id: uuid.UUID) -> list[Viewer]:
        """Disconnects the viewers whose organisation no longer watches the ward (an agreement
        ended, or the ward is gone); answers them, for the audit trail."""
        ward = self.rosters.get(ward_id)
        lapsed = [
            viewer
            for viewer in self.viewers.values()
            if viewer.ward_id == ward_id
            and (ward is None or not ward.watched_by(viewer.organization_id))
        ]
        for viewer in lapsed:
            await self.disconnect_viewer(viewer)
        return lapsed

    async def disconnect_viewer(self, viewer: Viewer) -> None:
        self.viewers.pop(viewer.id, None)
        await self.hub.disconnect(viewer.id)
        self._tell_talk(viewer.focus_bed)
        self.relink(viewer.ward_id)

    # --- linking -------------------------------------------------------------------------

    def relink(self, ward_id: uuid.UUID) -> None:
        """Points every slot of the ward's viewers, and each tablet's voice slot, at what it
        should show now."""
        ward = self.rosters.get(ward_id)
        for viewer in [v for v in self.viewers.values() if v.ward_id == ward_id]:
            self._apply(viewer.session, viewer.linked, self._wanted(ward, viewer))
        for bed in ward.beds if ward else ():
            tablet = self.hub.sessions.get(bed.id)
            if tablet is None:
                self.voices.pop(bed.id, None)
                continue
            speaker = next(
                (v for v in self.viewers.values() if v.talking and v.focus_bed == bed.id), None
            )
            voice = speaker.session.publications.get("audio") if speaker else None
            wanted: Wanted = {
                slot.mid: (voice, speaker.id if speaker else None, False)
                for slot in tablet.slots
                if slot.mid and slot.kind == "audio"
            }
            self._apply(tablet, self.voices.setdefault(bed.id, {}), wanted)

    def _wanted(self, ward: WardEntry | None, viewer: Viewer) -> Wanted:
        """The grid's tiles by their beds (keyframes only); the focused bed on the full-size
        slot of its source's codec (or, for a browser without that codec, on the first one,
        decoded and encoded again), and its tablet's sound on the audio slot."""
        wanted: Wanted = {
            mid: (self._shown(ward, bed_id), bed_id, True) for mid, bed_id in viewer.tiles.items()
        }
        focus = viewer.focus_bed
        picture = self._shown(ward, focus)
        bed = ward.bed(focus) if ward is not None and focus is not None else None
        rest = [slot for slot in viewer.session.slots if slot.mid and slot.mid not in wanted]
        full_size = [slot for slot in rest if slot.kind == "video"]
        shown_on = None
        if bed is not None and full_size:
            codec = SOURCE_CODECS[bed.source]
            shown_on = next((slot for slot in full_size if slot.codec == codec), full_size[0])
        for slot in rest:
            source: Picture | None = None
            if bed is not None and picture is not None:
                if slot is shown_on:
                    source = picture
                elif slot.kind == "audio":
                    source = self._tablet_audio(bed.id)
            wanted[str(slot.mid)] = (source, focus, False)
        return wanted

    def _shown(self, ward: WardEntry | None, bed_id: uuid.UUID | None) -> Picture | None:
        """A bed's picture, if it may be shown: no patient, no picture (privacy)."""
        bed = ward.bed(bed_id) if ward is not None and bed_id is not None else None
        if bed is None or not bed.occupied:
            return None
        return self.pictures.get(bed.id)

    def _tablet_audio(self, bed_id: uuid.UUID) -> Publication | None:
        tablet = self.hub.sessions.get(bed_id)
        return tablet.publications.get("audio") if tablet is not None else None

    @staticmethod
    def _apply(session: Session, linked: dict[str, Picture | None], wanted: Wanted) -> None:
        """Switches only the slots whose source changed (or that the hub emptied)."""
        for slot in session.slots:
            if slot.mid is None or slot.mid not in wanted:
                continue
            source, publisher, keyframes_only = wanted[slot.mid]
            if linked.get(slot.mid) is source and (source is None) == (slot.source is None):
                continue
            linked[slot.mid] = source
            if source is None:
                slot.switch(None, None)
            else:
                slot.switch(source.subscribe(slot.codec, keyframes_only=keyframes_only), publisher)

    def wants_keyframes(self) -> list[Picture]:
        """The pictures some grid tile shows: each is asked for a keyframe every interval."""
        shown = {
            id(source): source
            for viewer in self.viewers.values()
            for mid, source in viewer.linked.items()
            if source is not None and mid in viewer.tiles
        }
        return list(shown.values())

    async def _vanished(self, session: Session, reason: str) -> None:
        viewer = self.viewers.pop(session.participant_id, None)
        if viewer is not None:
            logger.info("viewer %s of ward %s gone: %s", viewer.identity, viewer.ward_id, reason)
            self._tell_talk(viewer.focus_bed)
            self.relink(viewer.ward_id)
            return
        self.detach_picture(session.participant_id, session.room_id)

    async def close(self) -> None:
        self.viewers.clear()
        self.pictures.clear()
        await self.hub.close()
        self.events.close()
