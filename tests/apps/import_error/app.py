import oakling_no_such_package  # noqa: F401

from oakling import App

app = App()
