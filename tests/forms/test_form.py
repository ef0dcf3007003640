"""Forms bound to real requests, over ASGI and WSGI: validation, re-rendering, injection."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import re
from typing import Any

import pytest
from tests.conftest import ClientFactory
from tests.forms.conftest import submit

from oakling import App, Request
from oakling.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    MultipleChoiceField,
    PasswordField,
    TextAreaField,
    TextField,
)
from oakling.http.datastructures import MultiDict


def _no_odd(value: str) -> None:
    if value == "odd":
        raise ValueError("That value is odd.")


class Signup(Form):
    username = TextField(min_length=3, max_length=12, pattern=r"^[a-z0-9_]+$", validators=[_no_odd])
    email = EmailField(help_text="We never share it.")
    age = IntegerField(min_value=13, max_value=130, required=False)
    height = DecimalField(decimal_places=2, min_value=decimal.Decimal("0.5"), required=False)
    birthday = DateField(required=False, max_value=dt.date(2020, 1, 1))
    meeting = DateTimeField(required=False)
    plan = ChoiceField(choices={"free": "Free", "pro": "Pro"})
    topics = MultipleChoiceField(choices=["news", "tips", "offers"], required=False)
    terms = BooleanField(required=True, label="I accept the terms")
    newsletter = BooleanField()
    password = PasswordField(min_length=8)
    confirm = PasswordField()
    bio = TextAreaField(required=False, max_length=200)
    source = HiddenField(required=False)

    def clean(self) -> None:
        if self.data.get("password") != self.data.get("confirm"):
            raise ValueError("The two passwords differ.")
        if self.data.get("username") == "admin":
            self.add_error("username", "That name is taken.")


VALID: dict[str, Any] = {
    "username": "ada_l",
    "email": "Ada@Example.COM",
    "age": "36",
    "height": "1.65",
    "birthday": "1815-12-10",
    "meeting": "2024-05-01T09:30",
    "plan": "pro",
    "topics": ["tips", "news"],
    "terms": "on",
    "password": "correct horse",
    "confirm": "correct horse",
    "bio": "Mathematician",
    "source": "ad",
}

stored: list[dict[str, Any]] = []


def _app() -> App:
    app = App()

    @app.route("/signup", methods=["GET", "POST"])
    def signup(request: Request, form: Signup) -> Any:
        if form.is_valid():
            stored.append(form.data)
            return {"saved": sorted(form.data)}
        return form.render(request), (422 if form.is_bound else 200)

    @app.route("/async", methods=["GET", "POST"])
    async def signup_async(request: Request, form: Signup) -> Any:
        if form.is_valid():
            stored.append(form.data)
            return {"saved": sorted(form.data)}
        return form.render(request), (422 if form.is_bound else 200)

    @app.route("/manual", methods=["GET", "POST"])
    async def manual(request: Request) -> Any:
        form = await Signup.from_request(request)
        return {"bound": form.is_bound, "valid": form.is_valid(), "errors": form.errors}

    @app.route("/manual-sync", methods=["GET", "POST"])
    def manual_sync(request: Request) -> Any:
        form = Signup.read_request(request)
        return {"bound": form.is_bound, "valid": form.is_valid(), "errors": form.errors}

    return app


@pytest.fixture(autouse=True)
def _empty_store() -> None:
    stored.clear()


@pytest.mark.parametrize("url", ["/signup", "/async"])
def test_valid_submit_gives_typed_cleaned_data(make_client: ClientFactory, url: str) -> None:
    client = make_client(_app())
    response = submit(client, url, VALID)
    assert response.status_code == 200, response.text
    assert len(stored) == 1
    assert stored[0] == {
        "username": "ada_l",
        "email": "Ada@example.com",
        "age": 36,
        "height": decimal.Decimal("1.65"),
        "birthday": dt.date(1815, 12, 10),
        "meeting": dt.datetime(2024, 5, 1, 9, 30),
        "plan": "pro",
        "topics": ["news", "tips"],
        "terms": True,
        "newsletter": False,
        "password": "correct horse",
        "confirm": "correct horse",
        "bio": "Mathematician",
        "source": "ad",
    }


def test_get_renders_an_unbound_accessible_form(make_client: ClientFactory) -> None:
    client = make_client(_app())
    page = client.get("/signup")
    assert page.status_code == 200
    text = page.text
    assert text.startswith('<form method="post">')
    assert 'name="csrf_token"' in text
    assert '<label for="id_username">Username</label>' in text
    assert (
        '<input type="text" name="username" id="id_username" value="" required '
        'maxlength="12" minlength="3">' in text
    )
    assert (
        '<input type="email" name="email" id="id_email" value="" required maxlength="254" '
        'aria-describedby="id_email-help">' in text
    )
    assert '<p class="help" id="id_email-help">We never share it.</p>' in text
    assert 'type="number" name="age" id="id_age" value="" max="130" min="13">' in text
    assert 'name="height" id="id_height" value="" step="0.01" min="0.5"' in text
    assert 'type="date" name="birthday" id="id_birthday" value="" max="2020-01-01"' in text
    assert 'type="datetime-local" name="meeting"' in text
    assert '<select name="plan" id="id_plan" required>' in text
    assert '<fieldset class="field field-topics" id="id_topics"><legend>Topics</legend>' in text
    assert '<input type="checkbox" name="terms" id="id_terms" value="on" required>' in text
    assert '<label for="id_terms">I accept the terms</label>' in text
    assert '<textarea name="bio" id="id_bio" maxlength="200">\n</textarea>' in text
    assert '<input type="hidden" name="source" id="id_source" value="">' in text
    assert "enctype" not in text
    assert "aria-invalid" not in text
    assert text.endswith('<button type="submit">Submit</button>\n</form>')


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "", "This field is required."),
        ("username", "ab", "Enter at least 3 characters (it has 2)."),
        ("username", "a" * 13, "Enter at most 12 characters (it has 13)."),
        ("username", "Ada!", "Enter a value in the expected format."),
        ("username", "odd", "That value is odd."),
        ("username", "nul\x00l", "Remove the null character from the text."),
        ("email", "ada@", "Enter a valid email address, such as name@example.com."),
        ("age", "12", "Enter a value of at least 13."),
        ("age", "131", "Enter a value of at most 130."),
        ("age", "3.5", "Enter a whole number."),
        ("age", "١٢", "Enter a whole number."),
        ("height", "1.655", "Enter at most 2 digits after the decimal point."),
        ("height", "0.4", "Enter a value of at least 0.5."),
        ("height", "NaN", "Enter a number."),
        ("birthday", "2020-02-30", "Enter a valid date as YYYY-MM-DD."),
        ("birthday", "10/12/1815", "Enter a valid date as YYYY-MM-DD."),
        ("birthday", "2021-01-01", "Enter a value of at most 2020-01-01."),
        ("meeting", "tomorrow", "Enter a valid date and time as YYYY-MM-DDTHH:MM."),
        ("plan", "gold", "Select one of the options shown."),
        ("topics", ["news", "spam"], "Select one of the options shown."),
        ("terms", "", "Tick this box to continue."),
        ("password", "short", "Enter at least 8 characters (it has 5)."),
    ],
)
def test_each_validator_gives_its_message_and_a_422(
    make_client: ClientFactory, field: str, value: Any, message: str
) -> None:
    client = make_client(_app())
    data = {**VALID, field: value}
    if field == "password":
        data["confirm"] = value
    response = submit(client, "/signup", data)
    assert response.status_code == 422
    errors = re.findall(
        rf'<ul class="errors" id="id_{field}-error"><li>(.*?)</li></ul>', response.text
    )
    assert errors == [html.escape(message, quote=True)]
    assert f'aria-describedby="id_{field}-error"' in response.text or (
        f'aria-describedby="id_{field}-help id_{field}-error"' in response.text
    )
    assert 'aria-invalid="true"' in response.text
    assert stored == []


def test_absent_checkbox_is_false_and_absent_optional_fields_are_empty(
    make_client: ClientFactory,
) -> None:
    client = make_client(_app())
    data = {k: v for k, v in VALID.items() if k not in ("age", "height", "topics", "bio", "source")}
    assert submit(client, "/signup", data).status_code == 200
    assert stored[0]["newsletter"] is False
    assert stored[0]["age"] is None
    assert stored[0]["topics"] == []
    assert stored[0]["bio"] == ""


def test_cross_field_clean_gives_a_non_field_error(make_client: ClientFactory) -> None:
    client = make_client(_app())
    response = submit(client, "/signup", {**VALID, "confirm": "something else"})
    assert response.status_code == 422
    assert (
        '<ul class="errors form-errors" role="alert"><li>The two passwords differ.</li></ul>'
        in response.text
    )
    assert stored == []


def test_clean_may_add_a_field_error(make_client: ClientFactory) -> None:
    client = make_client(_app())
    response = submit(client, "/signup", {**VALID, "username": "admin"})
    assert response.status_code == 422
    assert "<li>That name is taken.</li>" in response.text


def test_xss_payload_is_re_rendered_escaped(make_client: ClientFactory) -> None:
    client = make_client(_app())
    payload = "\"><script>alert(1)</script><x a='"
    response = submit(
        client,
        "/signup",
        {**VALID, "email": payload, "bio": "</textarea><script>alert(2)</script>", "plan": payload},
    )
    assert response.status_code == 422
    text = response.text
    assert "<script>" not in text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;x a=&#39;" in text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(2)&lt;/script&gt;</textarea>" in text
    assert stored == []


def test_submitted_values_come_back_but_passwords_never_do(make_client: ClientFactory) -> None:
    client = make_client(_app())
    response = submit(client, "/signup", {**VALID, "age": "12"})
    assert response.status_code == 422
    text = response.text
    assert 'name="username" id="id_username" value="ada_l"' in text
    assert 'name="age" id="id_age" value="12"' in text
    assert '<option value="pro" selected>Pro</option>' in text
    assert 'id="id_topics_0" value="news" checked' in text
    assert 'id="id_topics_2" value="offers">' in text
    assert 'name="terms" id="id_terms" value="on" checked' in text
    assert "correct horse" not in text
    assert '<input type="password" name="password" id="id_password" required' in text


def test_a_json_body_is_a_415_and_an_empty_post_is_bound(make_client: ClientFactory) -> None:
    client = make_client(_app())
    client.get("/signup")
    token = re.search(r'value="([^"]+)"', client.get("/signup").text)
    assert token is not None
    refused = client.post(
        "/signup", json={"username": "x"}, headers={"X-CSRF-Token": token.group(1)}
    )
    assert refused.status_code == 415
    assert "not a form" in refused.json()["detail"]
    empty = client.post("/manual", headers={"X-CSRF-Token": token.group(1)})
    assert empty.status_code == 200
    assert empty.json()["bound"] is True
    assert empty.json()["errors"]["username"] == ["This field is required."]


@pytest.mark.parametrize("url", ["/manual", "/manual-sync"])
def test_from_request_and_read_request(make_client: ClientFactory, url: str) -> None:
    client = make_client(_app())
    assert client.get(url).json() == {"bound": False, "valid": False, "errors": {}}
    response = submit(client, "/signup", {})  # fetch a token for this session
    assert response.status_code == 422
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signup").text)
    assert token is not None
    posted = client.post(url, data={**VALID, "csrf_token": token.group(1)})
    assert posted.json() == {"bound": True, "valid": True, "errors": {}}


def test_unbound_form_shows_initial_values_from_a_mapping_or_an_object() -> None:
    class Profile(Form):
        name = TextField(initial="anonymous")
        born = DateField(required=False)
        plan = ChoiceField(choices=["free", "pro"], initial="free")
        tags = MultipleChoiceField(choices=["a", "b"], required=False)
        active = BooleanField(initial=True)

    form = Profile(initial={"born": dt.date(2000, 1, 2), "tags": ["b"]})
    text = str(form.render())
    assert 'name="name" id="id_name" value="anonymous"' in text
    assert 'name="born" id="id_born" value="2000-01-02"' in text
    assert '<option value="free" selected>free</option>' in text
    assert "---------" not in text  # a required select with an initial value
    assert 'id="id_tags_1" value="b" checked' in text
    assert 'name="active" id="id_active" value="on" checked' in text

    class Obj:
        name = "from an object"

    assert 'value="from an object"' in str(Profile(initial=Obj()).render())
    assert not Profile().is_valid()
    assert Profile().errors == {}


def test_prefix_lets_two_forms_share_a_page() -> None:
    class Address(Form):
        city = TextField()

    data = MultiDict([("billing-city", "Paris"), ("shipping-city", "")])
    billing = Address(data, prefix="billing")
    shipping = Address(data, prefix="shipping")
    assert billing.is_valid()
    assert billing.data == {"city": "Paris"}
    assert shipping.errors == {"city": ["This field is required."]}
    assert 'name="shipping-city" id="id_shipping-city"' in str(shipping["city"])


def test_fields_may_be_named_like_form_attributes() -> None:
    class Odd(Form):
        data = TextField()
        errors = IntegerField()

    form = Odd({"data": "x", "errors": "2"})
    assert form.is_valid()
    assert form.data == {"data": "x", "errors": 2}
    assert list(Odd.fields) == ["data", "errors"]


def test_subclass_inherits_and_extends_fields() -> None:
    class Base(Form):
        a = TextField()

    class Child(Base):
        b = TextField()

    class Mixin:
        c = TextField(label="From a mixin")

    class Mixed(Mixin, Child):
        a = IntegerField()  # replaces the inherited one, in its place

    assert list(Child.fields) == ["a", "b"]
    assert list(Base.fields) == ["a"]
    assert list(Mixed.fields) == ["a", "b", "c"]
    assert type(Mixed.fields["a"]) is IntegerField
    assert Mixed.fields["c"].label == "From a mixin"


def test_jinja2_prints_forms_and_fields_unescaped_once() -> None:
    jinja2 = pytest.importorskip("jinja2")

    class Search(Form):
        q = TextField(label="Search <terms>")

    env = jinja2.Environment(autoescape=True)
    form = Search({"q": "<b>"})
    out = env.from_string('{{ form }}|{{ form["q"] }}|{{ form["q"].errors }}').render(form=form)
    assert '<label for="id_q">Search &lt;terms&gt;</label>' in out
    assert 'value="&lt;b&gt;"' in out
    assert "&lt;form" not in out


def test_add_error_to_an_unknown_field_is_a_key_error() -> None:
    class One(Form):
        a = TextField()

    form = One({"a": "x"})
    with pytest.raises(KeyError, match="no field 'nope'"):
        form.add_error("nope", "x")
    with pytest.raises(KeyError, match="no field 'nope'"):
        form["nope"]
    form.add_error(None, "whole form")
    assert form.non_field_errors == ["whole form"]
    assert not form.is_valid()
    assert repr(form) == "<One invalid>"


def test_the_rendered_csrf_field_is_what_the_csrf_check_accepts(
    make_client: ClientFactory,
) -> None:
    client = make_client(_app())
    client.get("/signup")  # the session cookie now exists
    forged = client.post("/signup", data=VALID)
    assert forged.status_code == 403
    assert stored == []
    assert submit(client, "/signup", VALID).status_code == 200
    assert len(stored) == 1


@pytest.mark.parametrize("wsgi", [False, True], ids=["asgi", "wsgi"])
def test_random_posts_never_give_a_500(wsgi: bool) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from oakling.testing import TestClient

    names = st.sampled_from([*Signup.fields, "csrf_token", "x", ""])
    values = st.one_of(st.text(max_size=40), st.binary(max_size=40))

    with TestClient(_app(), wsgi=wsgi) as client:  # no session cookie: no CSRF check

        @given(st.lists(st.tuples(names, values), max_size=8), st.booleans())
        @settings(max_examples=60, deadline=None)
        def check(items: list[tuple[str, str | bytes]], multipart: bool) -> None:
            client.cookies.clear()  # a re-rendered form starts a session; stay without one
            if multipart:
                files = [(n, ("f.bin", v)) for n, v in items if isinstance(v, bytes)]
                data = [(n, v) for n, v in items if isinstance(v, str)]
                response = client.post("/signup", data=dict(data), files=files or {"z": b""})
            else:
                text = [(n, v if isinstance(v, str) else v.hex()) for n, v in items]
                response = client.post("/async", data=dict(text))
            assert response.status_code in (200, 400, 413, 422), response.text
            assert response.status_code != 200 or stored

        check()


def test_a_jinja2_template_re_renders_the_form_with_a_422(
    make_client: ClientFactory, tmp_path: Any
) -> None:
    from oakling import Settings
    from oakling.web.templating import render

    (tmp_path / "signup.html").write_text(
        "<main>{{ form }}</main>"
        '<p>{{ form["username"].label_tag() }}</p>'
        "{% if form.errors %}<p>{{ form.errors | length }} errors</p>{% endif %}"
    )
    app = App(settings=Settings(template_dirs=(str(tmp_path),)))

    @app.route("/t", methods=["GET", "POST"])
    def page(request: Request, form: Signup) -> Any:
        if form.is_valid():
            return "ok"
        return render(request, "signup.html", form=form), (422 if form.is_bound else 200)

    client = make_client(app)
    first = client.get("/t")
    assert first.status_code == 200
    assert '<main><form method="post">' in first.text
    assert 'name="csrf_token"' in first.text
    assert '<p><label for="id_username">Username</label></p>' in first.text
    bad = submit(client, "/t", {**VALID, "username": "<b>", "email": "x"})
    assert bad.status_code == 422
    assert 'value="&lt;b&gt;"' in bad.text
    assert "<p>2 errors</p>" in bad.text
    assert submit(client, "/t", VALID).text == "ok"
