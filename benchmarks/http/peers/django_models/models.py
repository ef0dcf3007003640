"""The two TechEmpower tables as Django models (made by benchmarks/http/database.py)."""

from __future__ import annotations

from django.db import models


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        app_label = "django_models"
        db_table = "world"
        managed = False


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = "django_models"
        db_table = "fortune"
        managed = False
