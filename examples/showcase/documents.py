"""Documents: HTML pages with a layout, a form, flash messages and sign-in; a JSON API.

* ``GET /documents``: the list (paginated, from the database), rendered with Jinja2.
* ``GET/POST /documents/new``: a validated form (422 with the errors and the values typed);
  signed-in users only. Saved → a flash message and a redirect.
* ``POST /documents/{id}/delete``: staff only.
* ``GET /api/documents``: the same list as JSON, paginated (``?page=&per_page=``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from models import Document  # the project's own models module, next to app.py
from sqlalchemy import select

from oakling import Component, Request
from oakling.auth import login_required, staff_required
from oakling.db import Session  # noqa: TC001  # read at runtime by injection
from oakling.forms import Form, TextAreaField, TextField
from oakling.http.response import RedirectResponse, Response
from oakling.web.messages import flash
from oakling.web.templating import render

documents = Component("documents")


class DocumentForm(Form):
    """What a user types to create a document."""

    title = TextField(max_length=120)
    body = TextAreaField(required=False, max_length=10_000)


class DocumentOut(msgspec.Struct):
    """A document as the API returns it."""

    id: int
    title: str
    body: str


class DocumentPage(msgspec.Struct):
    """One page of documents."""

    items: list[DocumentOut]
    total: int
    page: int
    pages: int
    next: str | None
    prev: str | None


@documents.get("/documents")
def document_list(request: Request, db: Session) -> Response:
    """The documents, newest first, 10 per page."""
    page = db.paginate(select(Document).order_by(Document.id.desc()), per_page=10)
    return render(request, "documents.html", page=page)


@documents.route("/documents/new", methods=["GET", "POST"])
@login_required
def new_document(request: Request, form: DocumentForm, db: Session) -> Any:
    """The form; a valid post saves the document (a duplicate title is refused)."""
    if form.is_valid():
        title = form.data["title"]
        if db.exists(select(Document).where(Document.title == title)):
            form.add_error("title", "A document with this title exists.")
        else:
            db.add(Document(title=title, body=form.data.get("body") or ""))
            flash(request, f"Saved “{title}”.", "success")
            return RedirectResponse(request.app.url_for("documents.document_list"), 303)
    status = 422 if form.is_bound else 200
    return render(request, "document_form.html", form=form), status


@documents.post("/documents/{doc_id:int}/delete")
@staff_required
def delete_document(request: Request, doc_id: int, db: Session) -> RedirectResponse:
    """Delete a document (staff only)."""
    document = db.get_or_404(Document, doc_id)
    db.delete(document)
    flash(request, f"Deleted “{document.title}”.", "info")
    return RedirectResponse(request.app.url_for("documents.document_list"), 303)


@documents.get("/api/documents")
def api_documents(db: Session, page: Annotated[int, msgspec.Meta(ge=1)] = 1) -> DocumentPage:
    """The documents as JSON, 20 per page."""
    found = db.paginate(select(Document).order_by(Document.id), page=page, per_page=20)
    return DocumentPage(
        [DocumentOut(d.id, d.title, d.body) for d in found.items],
        found.total,
        found.page,
        found.pages,
        found.next_url,
        found.prev_url,
    )
