"""Editorial URLs outside the admin: signed share-preview links."""

urlpatterns: list = []
