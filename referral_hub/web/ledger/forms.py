"""Forms for the organizer's ledger: grants, reversals, the ledger filter and the credit policy."""

import re
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import Select, html_params

from ...chapters.models import POLICY_SETTINGS
from ...clock import FIRST_DAY, LAST_DAY
from ...ledger.models import MEMO_LENGTH, Kind
from ...ledger.organizing import MAX_GRANT
from ..http import id_from

REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
# ASCII digits with an optional minus: int() would also take `1_000`, `+5`, `٣` and `３`.
WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class WholeNumberField(IntegerField):
    """An integer field that says plainly what it wants, once, when given something else."""

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        # Beyond Python's digit limit int() fails too: far out of any range, the same answer.
        if not WHOLE_NUMBER.fullmatch(text) or len(text) > 4000:
            raise ValueError(_l("Enter a whole number, like 5 or -2, in the digits 0 to 9."))
        self.data = int(text)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


def _member_id(value) -> int | None:
    return id_from(str(value).strip() if value is not None else "")


class MemberSelect(Select):
    """WTForms' select, its options written in one pass: WTForms coerces each option's value and builds
    its attributes apart, which for a chapter's hundreds of members was most of the ledger page's time."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = True
        chosen = field.data
        options = []
        for choice in field.choices:
            # "" is the placeholder's value: chosen (None) when no member is.
            selected = "selected " if (choice.value or None) == chosen else ""
            options.append(
                f'<option {selected}value="{escape(choice.value)}">{escape(choice.label)}</option>'
            )
        select = f"<select {html_params(name=field.name, **kwargs)}>{''.join(options)}</select>"
        # html_params and escape() above escaped every value and label.
        return Markup(select)  # noqa: S704  # nosec B704: built from escaped parts only


class MemberField(SelectField):
    """A choice among the chapter's members, by id; anything else is one clear error."""

    widget = MemberSelect()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=_member_id, **kwargs)

    def process_formdata(self, valuelist):
        self.data = _member_id(valuelist[0]) if valuelist else None

    def pre_validate(self, form):
        if self.data is None and self.flags.optional:
            return
        if self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(_l("Choose a member of this chapter."))


def _memo_field(label: str, hint: str) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[lambda text: " ".join(text.split()) if text else text],
        validators=[
            DataRequired(message=_l("Write a memo that says why.")),
            Length(max=MEMO_LENGTH, message=_l("Keep the memo to %(num)d characters.", num=MEMO_LENGTH)),
        ],
        description=hint,
    )


class GrantForm(FlaskForm):
    member_id = MemberField(_l("Member"), choices=[])
    amount = WholeNumberField(
        _l("Credits"),
        validators=[
            InputRequired(message=_l("Enter a number of credits.")),
            NumberRange(
                -MAX_GRANT,
                MAX_GRANT,
                message=_l("Enter a number from %(low)d to %(high)d.", low=-MAX_GRANT, high=MAX_GRANT),
            ),
        ],
        description=_l("A negative number takes credits back; a balance never goes below zero."),
    )
    memo = _memo_field(_l("Memo"), _l("Why: the members will see it in their history."))
    # One key per rendering of the form: submitting it twice grants once.
    request_key = HiddenField()

    def __init__(self, members=(), **kwargs):
        super().__init__(**kwargs)
        self.member_id.choices = [SelectChoice("", _l("Choose a member"))] + [
            SelectChoice(member.id, member.display_name) for member in members
        ]
        if not self.request_key.data:
            self.request_key.data = uuid.uuid4().hex

    def validate_request_key(self, field):
        # A tampered key only loses the double-click guard; it is not worth an error message.
        if not REQUEST_KEY.fullmatch(field.data or ""):
            field.data = uuid.uuid4().hex

    def validate_amount(self, field):
        if field.data == 0:
            raise StopValidation(_l("Zero changes nothing: enter a positive or negative number."))


class ReversalForm(FlaskForm):
    memo = _memo_field(_l("Why reverse it?"), _l("The members on this transaction will see the memo."))


def _plausible_day(_form, field):
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise StopValidation(_l("Give a date from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY))


class LedgerFilterForm(FlaskForm):
    """The chapter ledger's filters, read from the query string (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    member = MemberField(_l("Member"), choices=[], validators=[Optional()])
    kind = SelectField(
        _l("What happened"),
        choices=[SelectChoice("", _l("Everything"))]
        + [SelectChoice(kind.value, kind.label) for kind in Kind],
        validators=[Optional()],
    )
    since = DateField(_l("From"), validators=[Optional(), _plausible_day])
    until = DateField(_l("To"), validators=[Optional(), _plausible_day])

    def __init__(self, members=(), **kwargs):
        super().__init__(**kwargs)
        self.member.choices = [SelectChoice("", _l("Every member"))] + [
            SelectChoice(member.id, member.display_name) for member in members
        ]

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise StopValidation(_l("The end date comes after the start date."))


def _policy_field(name: str) -> WholeNumberField:
    _default, low, high, label = POLICY_SETTINGS[name]
    return WholeNumberField(
        label,
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(
                low, high, message=_l("Choose a number from %(low)d to %(high)d.", low=low, high=high)
            ),
        ],
        description=_l("From %(low)d to %(high)d.", low=low, high=high),
    )


class PolicyForm(FlaskForm):
    intro_reward = _policy_field("intro_reward")
    business_bonus = _policy_field("business_bonus")
    need_cost = _policy_field("need_cost")
    connector_cost = _policy_field("connector_cost")
    welcome_credits = _policy_field("welcome_credits")
    repeat_pair_days = _policy_field("repeat_pair_days")
    daily_credited_intros = _policy_field("daily_credited_intros")
    intro_expiry_days = _policy_field("intro_expiry_days")
    organizers_need_two_factor = _policy_field("organizers_need_two_factor")
    outcome_prompt_days = _policy_field("outcome_prompt_days")
    guest_intro_credits = _policy_field("guest_intro_credits")
    daily_guest_intros = _policy_field("daily_guest_intros")
    guest_retention_days = _policy_field("guest_retention_days")

    def settings(self) -> dict[str, int]:
        return {name: self[name].data for name in POLICY_SETTINGS}
