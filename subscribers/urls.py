"""Subscriber-facing URLs: subscribe, confirm, preferences, unsubscribe."""

urlpatterns: list = []
