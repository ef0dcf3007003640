import enum

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oakling import App
from oakling.api import OpenAPI, Resource
from oakling.db import IntegerPK, Timestamps


class Base(DeclarativeBase):  # in an app: oakling.db.Model (here, tables of its own)
    metadata = MetaData()


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Post(IntegerPK, Timestamps, Base):
    __tablename__ = "docs_post"

    title: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(default="")
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    editor_notes: Mapped[str | None] = mapped_column(default=None)


posts = Resource(
    Post,
    name="posts",
    write_only=["editor_notes"],  # accepted in input, never shown
    filter_fields=["status"],  # ?status=published
    ordering_fields=["created_at", "title"],  # ?ordering=-created_at,title
    search_fields=["title", "body"],  # ?q=python
)

app = App()
app.include(posts, prefix="/v1")
app.include(OpenAPI(title="Blog", version="1.0"))
