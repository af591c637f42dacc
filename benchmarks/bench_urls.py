"""Bookbag's own URLs, unchanged, plus the minimal durable receiver for comparison."""

from django.urls import include, path

from benchmarks.minimal_receiver import minimal_receiver

urlpatterns = [
    path("", include("bookbag.urls")),
    path("bench/minimal/", minimal_receiver, name="bench-minimal-receiver"),
]
