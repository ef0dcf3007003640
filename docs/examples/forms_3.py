from pathlib import Path

from oakling import App, Request
from oakling.forms import Form, ImageField, TextField

app = App()
UPLOADS = Path("uploads")


class Avatar(Form):
    caption = TextField(required=False, max_length=100)
    # Opened with Pillow: the bytes decide, not the name or the Content-Type.
    image = ImageField(formats=["PNG", "JPEG"], max_size=2_000_000, max_pixels=4_000_000)


@app.route("/avatar", methods=["GET", "POST"])
def avatar(request: Request, form: Avatar) -> object:
    if not form.is_valid():
        # Nothing was saved: the upload stays in a temporary file, deleted after the request.
        return form.render(request), (422 if form.is_bound else 200)
    upload = form.data["image"]
    UPLOADS.mkdir(exist_ok=True)
    suffix = ".png" if upload.content_type == "image/png" else ".jpg"  # the detected type
    upload.save(UPLOADS / f"avatar{suffix}")
    return {"saved": f"avatar{suffix}", "bytes": upload.size}
