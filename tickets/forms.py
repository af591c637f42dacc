"""Forms for the inbox and the CSAT page. Raw request data reaches the ORM only through these
(Django's form fields refuse NUL characters, which PostgreSQL would answer with a 500)."""

from django import forms
from django.core.exceptions import ValidationError

from integrations.models import Order, Shop
from tickets.access import agents
from tickets.models import Priority, TicketStatus
from tickets.queries import DEFAULT_SORT, DEFAULT_VIEW, SORTS, VIEWS

MAX_BODY = 50_000
MAX_BULK = 100


def _blank(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class InboxFilterForm(forms.Form):
    """The list's query string: view, search, filters, sort and the keyset cursor."""

    view = forms.ChoiceField(choices=[(k, v.label) for k, v in VIEWS.items()], required=False)
    q = forms.CharField(max_length=200, required=False, strip=True, label="Search")
    shop = forms.ModelChoiceField(
        queryset=Shop.objects.only("id", "name", "domain"), required=False, empty_label="All stores"
    )
    status = forms.ChoiceField(choices=_blank("Any status", TicketStatus.choices), required=False)
    priority = forms.ChoiceField(choices=_blank("Any priority", Priority.choices), required=False)
    assignee = forms.CharField(required=False, max_length=20)
    tag = forms.CharField(required=False, max_length=64)
    sort = forms.ChoiceField(choices=[(k, s.label) for k, s in SORTS.items()], required=False)
    after = forms.CharField(required=False, max_length=500)
    before = forms.CharField(required=False, max_length=500)

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or DEFAULT_VIEW

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or DEFAULT_SORT

    def clean_assignee(self) -> str:
        value = self.cleaned_data["assignee"]
        if value in ("", "me", "none") or value.isdigit():
            return value
        raise ValidationError("Choose an agent.")


class MessageForm(forms.Form):
    KINDS = (("reply", "Reply to the customer"), ("note", "Internal note"))

    body = forms.CharField(widget=forms.Textarea, max_length=MAX_BODY, strip=True)
    kind = forms.ChoiceField(choices=KINDS, initial="reply", widget=forms.RadioSelect)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")
    to_me = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=TicketStatus.choices)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


class TagsForm(forms.Form):
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated")

    def clean_tags(self) -> list[str]:
        names = [t.strip() for t in self.cleaned_data["tags"].split(",")]
        return [n for n in names if n][:20]


class EscalateForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200)


class LinkOrderForm(forms.Form):
    """An order of the ticket's shop to link; empty unlinks."""

    order = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = Order.objects.filter(shop_id=ticket.shop_id).only(
            "id", "shop_id", "name"
        )


class BulkForm(forms.Form):
    ACTIONS = (
        ("assign", "Assign"),
        ("status", "Set status"),
        ("priority", "Set priority"),
        ("tag", "Add tag"),
    )

    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=())
    action = forms.ChoiceField(choices=ACTIONS)
    assignee = forms.CharField(required=False, max_length=20)
    status = forms.ChoiceField(choices=_blank("—", TicketStatus.choices), required=False)
    priority = forms.ChoiceField(choices=_blank("—", Priority.choices), required=False)
    tag = forms.CharField(required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is a valid choice here: the view loads only tickets that exist.
        self.fields["tickets"].valid_value = lambda value: str(value).isdigit()

    def clean_tickets(self) -> list[int]:
        ids = self.cleaned_data["tickets"]
        if len(ids) > MAX_BULK:
            raise ValidationError(f"Choose at most {MAX_BULK} tickets at a time.")
        return ids

    def clean(self):
        data = super().clean()
        action = data.get("action")
        needed = {"status": "status", "priority": "priority", "tag": "tag"}.get(action)
        if needed and not data.get(needed):
            self.add_error(needed, "Choose a value.")
        if action == "assign":
            value = data.get("assignee", "")
            if not (value in ("me", "none") or value.isdigit()):
                self.add_error("assignee", "Choose an agent.")
        return data


class CsatForm(forms.Form):
    score = forms.TypedChoiceField(
        coerce=int,
        choices=[(i, str(i)) for i in range(1, 6)],
        widget=forms.RadioSelect,
        label="How would you rate the support you received?",
    )
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything you'd like to tell us? (optional)",
    )
