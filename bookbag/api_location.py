"""The `Location` of a resource an API POST created."""


def created_location(request, pk: int) -> str:
    """The new resource's URL, from the list URL the POST went to: paths take the trailing slash
    or not (bookbag/api.py), and the new URL must not depend on which the client used."""
    return request.build_absolute_uri(f"{request.path.rstrip('/')}/{pk}/")
