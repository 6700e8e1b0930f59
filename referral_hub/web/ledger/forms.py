"""Forms for the organizer's ledger: grants, reversals, the ledger filter and the credit policy."""

import re
import uuid

from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from ...chapters import picking
from ...chapters.models import POLICY_SETTINGS
from ...clock import FIRST_DAY, LAST_DAY
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...ledger.models import MEMO_LENGTH, Kind
from ...ledger.organizing import MAX_GRANT
from ..forms import Form
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


class RecipientField(StringField):
    """The member an organizer means, typed as a name or an email address (PicksAMember reads it)."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, filters=[lambda text: " ".join(text.split()) if text else ""], **kwargs)


class PicksAMember:
    """A form whose member is typed (a RecipientField) or chosen by id: the id, posted by a choice among
    the matches, a link or a script, wins; the text is looked up in `chapter`. After validation `picked`
    is the one member meant, or None with `matches` to choose from."""

    chapter = None
    picked = None
    matches: tuple = ()
    more_matches = False

    def pick_member(self, text_field, chosen_id: int | None, *, required: bool) -> None:
        if chosen_id is None and not text_field.data:
            if required:
                raise StopValidation(_("Choose a member of this chapter."))
            return
        if chosen_id is not None:
            self.picked = picking.member_in(self.chapter, chosen_id)
            if self.picked is None:
                raise StopValidation(_("Choose a member of this chapter."))
        else:
            found = picking.pick(self.chapter, text_field.data)
            self.picked, self.matches, self.more_matches = found.member, found.matches, found.more
            if self.picked is None:
                raise StopValidation(_unmatched(found))
        # Shown back as the address, which names them alone, whatever was typed or chosen.
        text_field.data = self.picked.email


def _unmatched(found: picking.Pick) -> str:
    if not found.matches:
        return _(
            "No current member of this chapter matches “%(text)s”: check the spelling, or type their email "
            "address.",
            text=found.text,
        )
    if found.more:
        return _(
            "More than %(num)d members match “%(text)s”: choose one of the first %(num)d below, or type "
            "more of the name or the email address.",
            num=len(found.matches),
            text=found.text,
        )
    return _(
        "%(num)d members match “%(text)s”: choose one below, or type the whole email address.",
        num=len(found.matches),
        text=found.text,
    )


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


class GrantForm(PicksAMember, Form):
    recipient = RecipientField(
        _l("Member"),
        description=_l("Their name or email address; part of a name lists the members it could mean."),
    )
    # The member chosen among the matches, or posted by a script: it wins over the typed name. Not
    # rendered as a field: the choices are radio buttons under the name, and only when it matches several.
    member_id = StringField()
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

    def __init__(self, chapter=None, **kwargs):
        super().__init__(**kwargs)
        self.chapter = chapter
        if not self.request_key.data:
            self.request_key.data = uuid.uuid4().hex

    def validate_request_key(self, field):
        # A tampered key only loses the double-click guard; it is not worth an error message.
        if not REQUEST_KEY.fullmatch(field.data or ""):
            field.data = uuid.uuid4().hex

    def validate_recipient(self, field):
        chosen = self.member_id.data
        # A posted id that is no member's id is no member of the chapter: said, not ignored.
        self.pick_member(field, (id_from(chosen) or 0) if chosen else None, required=True)

    def validate_amount(self, field):
        if field.data == 0:
            raise StopValidation(_l("Zero changes nothing: enter a positive or negative number."))


class ReversalForm(Form):
    memo = _memo_field(_l("Why reverse it?"), _l("The members on this transaction will see the memo."))


def _plausible_day(_form, field):
    if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
        raise StopValidation(_l("Give a date from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY))


class LedgerFilterForm(PicksAMember, Form):
    """The chapter ledger's filters, read from the query string (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    member_q = RecipientField(
        _l("Member"), description=_l("Their name or email address; leave it empty for every member.")
    )
    # A link's member by id (each name in the balances links here): read when no name is typed.
    member = StringField()
    kind = SelectField(
        _l("What happened"),
        choices=[SelectChoice("", _l("Everything"))]
        + [SelectChoice(kind.value, kind.label) for kind in Kind],
        validators=[Optional()],
    )
    since = DateField(_l("From"), validators=[Optional(), _plausible_day])
    until = DateField(_l("To"), validators=[Optional(), _plausible_day])

    def __init__(self, chapter=None, **kwargs):
        super().__init__(**kwargs)
        self.chapter = chapter

    def validate_member_q(self, field):
        linked = None
        if not field.data and self.member.data:
            # Anything but a member's id is no member of the chapter: said, not ignored.
            linked = id_from(self.member.data) or 0
        self.pick_member(field, linked, required=False)

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


class PolicyForm(Form):
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
