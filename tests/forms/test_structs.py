"""Forms derived from msgspec Structs and from models: one declaration, many uses."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from tests.conftest import ClientFactory
from tests.forms.conftest import submit

from oakling import App, Request
from oakling.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    DecimalField,
    EmailField,
    FloatField,
    Form,
    IntegerField,
    MultipleChoiceField,
    PasswordField,
    StructForm,
    TextAreaField,
    TextField,
    form_for,
)
from oakling.forms.fields import HiddenField


class Color(enum.Enum):
    RED = "red"
    LIGHT_BLUE = "light-blue"


class Profile(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=40, title="Full name")]
    email: Annotated[str, msgspec.Meta(extra_json_schema={"format": "email"})]
    secret: Annotated[str, msgspec.Meta(extra_json_schema={"format": "password"})]
    age: Annotated[int, msgspec.Meta(ge=0, lt=150, description="In years")]
    size: Annotated[Literal["s", "m", "l"], msgspec.Meta(extra={"widget": "radio"})]
    color: Color = Color.RED
    colors: list[Color] = []
    nickname: str | None = None
    born: dt.date | None = None
    score: float = 0.5
    price: decimal.Decimal | None = None
    newsletter: bool = False
    bio: Annotated[str, msgspec.Meta(extra={"widget": "textarea"})] = ""
    ref: uuid.UUID | None = None


ProfileForm = form_for(Profile)


def test_fields_follow_the_struct() -> None:
    assert ProfileForm.__name__ == "ProfileForm"
    fields = ProfileForm.fields
    assert list(fields) == list(Profile.__struct_fields__)
    expected = {
        "name": TextField,
        "email": EmailField,
        "secret": PasswordField,
        "age": IntegerField,
        "size": ChoiceField,
        "color": ChoiceField,
        "colors": MultipleChoiceField,
        "nickname": TextField,
        "born": DateField,
        "score": FloatField,
        "price": DecimalField,
        "newsletter": BooleanField,
        "bio": TextAreaField,
    }
    for name, kind in expected.items():
        assert type(fields[name]) is kind, name
    assert fields["name"].label == "Full name"
    assert fields["size"].radio is True
    assert fields["age"].help_text == "In years"
    assert [n for n, f in fields.items() if f.required] == [
        "name",
        "email",
        "secret",
        "age",
        "size",
    ]
    assert fields["color"].initial is Color.RED
    assert fields["age"].html_attrs() == {"max": "149", "min": "0"}
    assert fields["name"].html_attrs() == {"maxlength": "40", "minlength": "2"}


def test_struct_form_gives_a_typed_struct() -> None:
    data = {
        "name": "Ada",
        "email": "ada@example.com",
        "secret": " pw ",
        "age": "36",
        "size": "m",
        "color": "light-blue",
        "colors": ["red", "light-blue"],
        "nickname": "",
        "born": "1815-12-10",
        "score": "",
        "price": "9.99",
        "newsletter": "on",
        "ref": "12345678-1234-5678-1234-567812345678",
    }
    form = ProfileForm(data)
    assert form.is_valid(), form.errors
    assert form.struct == Profile(
        name="Ada",
        email="ada@example.com",
        secret=" pw ",
        age=36,
        size="m",
        color=Color.LIGHT_BLUE,
        colors=[Color.RED, Color.LIGHT_BLUE],
        nickname=None,
        born=dt.date(1815, 12, 10),
        score=0.5,
        price=decimal.Decimal("9.99"),
        newsletter=True,
        bio="",
        ref=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    )


def test_struct_constraints_give_messages() -> None:
    form = ProfileForm(
        {"name": "A", "email": "x", "secret": "", "age": "150", "size": "xl", "ref": "nope"}
    )
    assert not form.is_valid()
    assert form.errors == {
        "name": ["Enter at least 2 characters (it has 1)."],
        "email": ["Enter a valid email address, such as name@example.com."],
        "secret": ["This field is required."],
        "age": ["Enter a value of at most 149."],
        "size": ["Select one of the options shown."],
        "ref": ["Invalid UUID"],
    }
    with pytest.raises(RuntimeError, match="not valid"):
        _ = form.struct


def test_constraints_only_msgspec_knows_come_back_as_field_errors() -> None:
    class Ratio(msgspec.Struct):
        value: Annotated[float, msgspec.Meta(gt=0, multiple_of=0.5)]

    form = form_for(Ratio)({"value": "0"})
    assert not form.is_valid()
    assert form.errors == {"value": ["Expected `float` > 0.0"]}


class Signup(StructForm[Profile], fields=["name", "email", "age", "size", "bio"]):
    bio = TextField(max_length=10, required=False)  # replaces the derived textarea
    accept = BooleanField(required=True)  # not in the Struct

    def clean(self) -> None:
        if self.data.get("name") == "root":
            raise ValueError("Pick another name.")


def test_struct_form_subclass_picks_replaces_and_adds_fields() -> None:
    assert list(Signup.fields) == ["name", "email", "age", "size", "bio", "accept"]
    assert type(Signup.fields["bio"]) is TextField
    form = Signup({"name": "Ada", "email": "a@b.co", "age": "3", "size": "s", "accept": "on"})
    assert form.is_valid(), form.errors
    assert form.data["accept"] is True
    with pytest.raises(RuntimeError, match="leaves out required fields of Profile \\(secret\\)"):
        _ = form.struct
    bad = Signup({"name": "root", "email": "a@b.co", "age": "3", "size": "s", "accept": "on"})
    assert bad.non_field_errors == ["Pick another name."]


def test_struct_form_rejects_unknown_field_names() -> None:
    with pytest.raises(TypeError, match="Profile has no field\\(s\\) 'nope'"):

        class Bad(StructForm[Profile], exclude=["nope"]):
            pass


def test_aware_datetimes_for_a_struct_that_wants_them() -> None:
    class Meeting(msgspec.Struct):
        at: Annotated[dt.datetime, msgspec.Meta(tz=True)]
        local: dt.datetime | None = None

    form = form_for(Meeting)({"at": "2024-05-01T09:30", "local": "2024-05-01T09:30"})
    assert form.is_valid(), form.errors
    assert form.struct.at == dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
    assert form.struct.local == dt.datetime(2024, 5, 1, 9, 30)


def test_hidden_widget_and_optional_string() -> None:
    class Item(msgspec.Struct):
        next_url: Annotated[str, msgspec.Meta(extra={"widget": "hidden"})] = "/"

    fields = form_for(Item).fields
    assert type(fields["next_url"]) is HiddenField
    form = form_for(Item)({"next_url": ""})
    assert form.is_valid()
    assert form.struct == Item(next_url="/")


def test_struct_form_round_trip_through_a_handler(make_client: ClientFactory) -> None:
    received: list[Profile] = []
    app = App()

    @app.route("/profile", methods=["GET", "POST"])
    async def profile(request: Request, form: ProfileForm) -> Any:
        if form.is_valid():
            received.append(form.struct)
            return {"ok": True}
        return form.render(request), (422 if form.is_bound else 200)

    client = make_client(app)
    page = client.get("/profile").text
    assert '<label for="id_name">Full name</label>' in page
    assert '<option value="red" selected>Red</option>' in page
    assert '<label for="id_colors_1">Light blue</label>' in page
    bad = submit(client, "/profile", {"name": "<i>x</i>"})
    assert bad.status_code == 422
    assert 'value="&lt;i&gt;x&lt;/i&gt;"' in bad.text
    assert received == []
    good = submit(
        client,
        "/profile",
        {"name": "Ada", "email": "a@b.co", "secret": "pw", "age": "1", "size": "l"},
    )
    assert good.status_code == 200, good.text
    assert received[0].size == "l"


# -- from a model -----------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "forms_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(80), info={"label": "Book title"})
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    pages: Mapped[int | None]
    price: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(5, 2), default=decimal.Decimal(0))
    genre: Mapped[str] = mapped_column(sa.Enum("novel", "essay", name="forms_book_genre"))
    contact: Mapped[str | None] = mapped_column(sa.String(254), info={"format": "email"})


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'books.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


BookForm = form_for(Book)


def test_model_form_fields() -> None:
    short = form_for(Book, exclude=["contact"])
    assert short.__name__ == "BookForm"
    assert list(short.fields) == ["title", "summary", "pages", "price", "genre"]
    assert short.fields["title"].label == "Book title"
    assert short.fields["title"].html_attrs() == {"maxlength": "80"}
    assert type(short.fields["summary"]) is TextAreaField
    assert type(short.fields["genre"]) is ChoiceField
    assert not short.fields["pages"].required
    assert type(form_for(Book).fields["contact"]) is EmailField
    assert list(form_for(Book, fields=["genre", "title"]).fields) == ["genre", "title"]


def test_model_form_stores_only_valid_data(make_client: ClientFactory, engine: sa.Engine) -> None:
    from oakling.db.structs import struct_values

    app = App()

    @app.route("/books/new", methods=["GET", "POST"])
    def new_book(request: Request, form: BookForm) -> Any:
        if not form.is_valid():
            return form.render(request), (422 if form.is_bound else 200)
        with Session(engine) as session, session.begin():
            book = Book(**struct_values(form.struct))
            session.add(book)
            session.flush()
            return {"id": book.id}

    client = make_client(app)
    bad = submit(
        client,
        "/books/new",
        {"title": "x" * 81, "genre": "poem", "pages": "many", "price": "1000.5"},
    )
    assert bad.status_code == 422
    assert "Enter at most 3 digits before the decimal point." in bad.text
    huge = submit(client, "/books/new", {"title": "x", "genre": "novel", "pages": "9" * 12})
    assert "Enter a value of at most 2147483647." in huge.text
    assert "Enter at most 80 characters (it has 81)." in bad.text
    assert "Select one of the options shown." in bad.text
    assert "Enter a whole number." in bad.text
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Book)) == 0
    good = submit(client, "/books/new", {"title": "Walden", "genre": "essay", "summary": "Woods"})
    assert good.status_code == 200, good.text
    with Session(engine) as session:
        book = session.scalars(sa.select(Book)).one()
        assert (book.title, book.genre, book.summary, book.pages) == (
            "Walden",
            "essay",
            "Woods",
            None,
        )


def test_plain_form_is_not_a_struct_form() -> None:
    class Plain(Form):
        a = TextField()

    assert not hasattr(Plain, "struct")
