"""struct_for: a model's columns as msgspec Structs for reading, creating and updating."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import typing
import uuid
from typing import Annotated, Any, Literal

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from oakling.db.models import IntegerPK, Model, Timestamps
from oakling.db.structs import struct_for, struct_values
from oakling.exceptions import ConfigurationError


class Base(DeclarativeBase):
    # NOTE: a metadata of its own: these tables never reach the project's Model.metadata.
    type_annotation_map = Model.type_annotation_map


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Article(IntegerPK, Timestamps, Base):
    __tablename__ = "structs_article"

    title: Mapped[str] = mapped_column(
        sa.String(120), info={"label": "Headline", "help": "Shown on top"}
    )
    body: Mapped[str] = mapped_column(sa.Text, default="")
    email: Mapped[str | None] = mapped_column(sa.String(254), info={"format": "email"})
    status: Mapped[Status] = mapped_column(default=Status.DRAFT)
    kind: Mapped[str] = mapped_column(sa.Enum("news", "blog", name="article_kind"))
    views: Mapped[int] = mapped_column(server_default="0")
    price: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(10, 2), doc="In euros")
    published_on: Mapped[dt.date | None]
    token: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    secret: Mapped[str] = mapped_column(sa.String(20), default="x", info={"read_only": True})
    slug: Mapped[str] = mapped_column(sa.String(120), sa.Computed("lower(title)"))
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class Tag(Base):
    __tablename__ = "structs_tag"

    name: Mapped[str] = mapped_column(sa.String(30), primary_key=True)  # a natural key
    weight: Mapped[float] = mapped_column(default=1.0)


def _fields(struct: type[msgspec.Struct]) -> dict[str, msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name: f for f in info.fields}


def _unset(field: msgspec.inspect.Field) -> bool:
    """Optional, ``UNSET`` when not sent (how msgspec.inspect shows an UNSET default)."""
    return not field.required and field.default is msgspec.NODEFAULT


def test_read_struct_has_every_column_as_stored() -> None:
    read = struct_for(Article)
    assert read.__name__ == "ArticleRead"
    assert read.__module__ == __name__
    assert list(read.__struct_fields__) == [
        "id",
        "title",
        "body",
        "email",
        "status",
        "kind",
        "views",
        "price",
        "published_on",
        "token",
        "secret",
        "slug",
        "data",
        "created_at",
        "updated_at",
    ]
    fields = _fields(read)
    assert all(f.required for f in fields.values())
    hints = typing.get_type_hints(read, include_extras=True)
    assert hints["id"] is int
    # Output: no length or range checks (a stored value must convert, whatever it is).
    title = Annotated[str, msgspec.Meta(title="Headline", description="Shown on top")]
    assert hints["title"] == title
    assert hints["status"] is Status
    assert hints["kind"] == Literal["news", "blog"]
    assert hints["price"] == Annotated[decimal.Decimal, msgspec.Meta(description="In euros")] | None
    assert hints["views"] is int
    assert hints["published_on"] == dt.date | None
    assert hints["token"] is uuid.UUID
    assert hints["data"] is Any


def test_read_struct_converts_an_orm_object() -> None:
    now = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    article = Article(
        id=7,
        title="Hi",
        body="",
        email=None,
        status=Status.PUBLISHED,
        kind="news",
        views=3,
        price=decimal.Decimal("9.50"),
        published_on=None,
        token=uuid.UUID(int=1),
        secret="s",
        slug="hi",
        data={"a": 1},
        created_at=now,
        updated_at=now,
    )
    out = msgspec.convert(article, struct_for(Article), from_attributes=True)
    encoded = msgspec.json.decode(msgspec.json.encode(out))
    assert encoded["id"] == 7
    assert encoded["status"] == "published"
    assert encoded["price"] == "9.50"


def test_create_struct_leaves_out_generated_columns() -> None:
    create = struct_for(Article, mode="create")
    assert create.__name__ == "ArticleCreate"
    fields = _fields(create)
    # id (auto-increment), updated_at (onupdate), created_at (server_default=func.now()),
    # secret (read_only), slug (Computed): out.
    assert list(fields) == [
        "title",
        "body",
        "email",
        "status",
        "kind",
        "views",
        "price",
        "published_on",
        "token",
        "data",
    ]
    assert fields["title"].required
    assert fields["kind"].required
    assert fields["body"].default == ""
    assert fields["status"].default is Status.DRAFT
    assert fields["email"].default is None
    assert _unset(fields["views"])  # server default: the database fills it
    assert _unset(fields["token"])  # callable default: the ORM fills it


def test_create_struct_validates_input() -> None:
    create = struct_for(Article, mode="create")
    decode = msgspec.json.Decoder(create).decode
    item = decode(b'{"title": "Hello", "kind": "blog"}')
    assert struct_values(item) == {
        "title": "Hello",
        "body": "",
        "email": None,
        "status": Status.DRAFT,
        "kind": "blog",
        "price": None,
        "published_on": None,
        "data": None,
    }
    with pytest.raises(msgspec.ValidationError, match=r"length <= 120 - at `\$.title`"):
        decode(b'{"title": "' + b"x" * 121 + b'", "kind": "blog"}')
    with pytest.raises(msgspec.ValidationError, match=r"Invalid enum value 'film'"):
        decode(b'{"title": "x", "kind": "film"}')
    with pytest.raises(msgspec.ValidationError, match=r"unknown field `id`"):
        decode(b'{"title": "x", "kind": "blog", "id": 5}')
    with pytest.raises(msgspec.ValidationError, match=r"missing required field `kind`"):
        decode(b'{"title": "x"}')


def test_update_struct_makes_every_field_optional_and_unset() -> None:
    update = struct_for(Article, mode="update")
    assert update.__name__ == "ArticleUpdate"
    fields = _fields(update)
    assert "id" not in fields
    assert all(_unset(f) for f in fields.values())
    patch = msgspec.json.decode(b'{"title": "New", "email": null}', type=update)
    assert struct_values(patch) == {"title": "New", "email": None}
    with pytest.raises(msgspec.ValidationError, match=r"Expected `str`, got `null`"):
        msgspec.json.decode(b'{"title": null}', type=update)


def test_a_natural_primary_key_is_input() -> None:
    assert list(struct_for(Tag, mode="create").__struct_fields__) == ["name", "weight"]
    assert _fields(struct_for(Tag, mode="create"))["weight"].default == 1.0


def test_include_exclude_overrides_and_name() -> None:
    email = Annotated[str, msgspec.Meta(pattern="@")]
    custom = struct_for(
        Article,
        mode="create",
        include=["kind", "title", "email", "slug"],
        exclude=["slug"],
        overrides={"email": email},
        name="ArticleIn",
    )
    assert custom.__name__ == "ArticleIn"
    assert list(custom.__struct_fields__) == ["kind", "title", "email"]
    hints = typing.get_type_hints(custom, include_extras=True)
    assert hints["email"] == email | None
    assert list(struct_for(Article, exclude=["data", "body"]).__struct_fields__)[:3] == [
        "id",
        "title",
        "email",
    ]
    # A generated column named in include is kept (an admin may show it read-only).
    assert "slug" in struct_for(Article, mode="create", include=["slug"]).__struct_fields__


def test_structs_are_cached() -> None:
    assert struct_for(Article, mode="create") is struct_for(Article, mode="create")
    assert struct_for(Article, include=["id"]) is struct_for(Article, include=("id",))
    assert struct_for(Article) is not struct_for(Article, mode="create")
    unhashable = {"data": Annotated[dict[str, Any], msgspec.Meta(extra={"x": []})]}
    assert struct_for(Article, overrides=unhashable).__name__ == "ArticleRead"


def test_input_structs_hold_to_what_the_columns_can_store() -> None:
    hints = typing.get_type_hints(struct_for(Article, mode="create"), include_extras=True)
    int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
    assert hints["views"] == int32 | msgspec.UnsetType
    assert hints["price"] == (
        Annotated[
            decimal.Decimal,
            msgspec.Meta(description="In euros", extra={"max_digits": 10, "decimal_places": 2}),
        ]
        | None
    )
    decode = msgspec.json.Decoder(struct_for(Article, mode="update")).decode
    with pytest.raises(msgspec.ValidationError, match=r"<= 2147483647 - at `\$.views`"):
        decode(b'{"views": 2147483648}')

    class Counter(Base):
        __tablename__ = "structs_counter"
        id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
        small: Mapped[int] = mapped_column(sa.SmallInteger)
        big: Mapped[int] = mapped_column(sa.BigInteger)

    hints = typing.get_type_hints(struct_for(Counter, mode="create"), include_extras=True)
    assert hints["small"] == Annotated[int, msgspec.Meta(ge=-(2**15), le=2**15 - 1)]
    assert hints["big"] == Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


def test_json_schema_carries_labels_help_formats_and_widgets() -> None:
    schema = msgspec.json.schema(struct_for(Article, mode="create"))
    props = schema["$defs"]["ArticleCreate"]["properties"]
    assert props["title"] == {
        "type": "string",
        "maxLength": 120,
        "title": "Headline",
        "description": "Shown on top",
    }
    assert props["email"]["anyOf"][0] == {"type": "string", "maxLength": 254, "format": "email"}
    hints = typing.get_type_hints(struct_for(Article, mode="create"), include_extras=True)
    assert hints["body"] == Annotated[str, msgspec.Meta(extra={"widget": "textarea"})]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "write"}, "mode must be 'read', 'create' or 'update', not 'write'"),
        ({"include": ["nope"]}, "Article has no column attribute\\(s\\) 'nope'"),
        ({"exclude": ["nope"]}, "has no column attribute"),
        ({"overrides": {"nope": int}}, "has no column attribute"),
    ],
)
def test_bad_arguments_are_configuration_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        struct_for(Article, **kwargs)


def test_a_class_that_is_not_mapped_is_a_configuration_error() -> None:
    class Plain:
        pass

    with pytest.raises(ConfigurationError, match="is not a mapped model class"):
        struct_for(Plain)
