"""A component with its own models and migrations, referring to the project's table."""

from oakling import Component

library = Component("library", models="library.models")
