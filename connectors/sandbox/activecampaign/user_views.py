"""``/users/me``: who the API key belongs to (a connection test's first call)."""
from __future__ import annotations

from django.http import HttpResponse

from .api import ApiRequest, api_endpoint, json_response


@api_endpoint("GET", setup=True)
def user_me(api: ApiRequest) -> HttpResponse:
    """The account's one user, the owner of the API key."""
    base = f"{api.shapes.api_base}/users/1"
    return json_response({"user": {
        "username": "admin", "firstName": "Sandbox", "lastName": "Admin", "email": f"admin@{api.account.slug}.example",
        "phone": "", "signature": None, "links": {"lists": f"{base}/lists", "userGroup": f"{base}/userGroup"}, "id": "1",
    }})
