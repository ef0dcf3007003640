"""A project for the offline SQL snapshots (MSSQL, Oracle): `oakling db migrate --sql`."""

from library import library

from oakling import App

app = App(debug=True)
app.include(library)
