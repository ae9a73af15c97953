"""How the knowledge-base screens show articles: an article's plain text as headings,
paragraphs and lists, the words a search found marked in a passage, and the templates' labels."""

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from web.knowledge.labels import LABELS
from web.knowledge.schemas import Snippet
from web.templating import render_page


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "list"
    lines: list[str] = field(default_factory=list)


def blocks(body: str) -> list[Block]:
    """The article's text as written: `# ` starts a heading, `- ` an item of a list, and a
    blank line ends a paragraph."""
    found: list[Block] = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            if found and found[-1].kind == "paragraph":
                found.append(Block("break"))
            continue
        if line.startswith("#"):
            found.append(Block("heading", [line.lstrip("#").strip()]))
            continue
        kind = "list" if line.startswith(("- ", "* ")) else "paragraph"
        text = line[2:].strip() if kind == "list" else line
        if found and found[-1].kind == kind:
            found[-1].lines.append(text)
        else:
            found.append(Block(kind, [text]))
    return [block for block in found if block.kind != "break"]


def marked(snippet: Snippet) -> list[tuple[str, bool]]:
    """The passage in pieces, each with whether it is a word the search found; the template
    escapes each piece and marks the found ones."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(snippet.highlights):
        if start < at or end > len(snippet.text):
            continue
        pieces += [(snippet.text[at:start], False), (snippet.text[start:end], True)]
        at = end
    pieces.append((snippet.text[at:], False))
    return [piece for piece in pieces if piece[0]]


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    """A knowledge-base template, with the words for consult's codes (`labels.LABELS`)."""
    context = {**LABELS, "marked": marked, **context}
    return render_page(request, name, context, status=status, block=block)
