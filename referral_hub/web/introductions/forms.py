"""Forms: make an introduction (to a member or a guest), answer one, report its outcome."""

from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...i18n import lazy_gettext as _l
from ...introductions import guests, notes
from ...introductions.models import Decision, OutcomeKind
from ..forms import Form


class IntroduceForm(Form):
    # The choices are the member's chapters' members; the service decides who may be introduced,
    # so a stale or forged choice gets the service's clear message, not "Not a valid choice".
    first_id = SelectField(
        _l("First person"),
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose the first person."))],
    )
    second_id = SelectField(
        _l("Second person (a member)"),
        coerce=int,
        validate_choice=False,
        validators=[Optional()],
        description=_l("Or leave this and introduce someone outside the chapter below."),
    )
    guest_name = StringField(_l("Guest's name"), validators=[Optional(), Length(max=guests.NAME_MAX)])
    guest_email = StringField(
        _l("Guest's email address"),
        validators=[Optional(), Length(max=254)],
        description=_l("Only you see it until both accept; then only the member does."),
    )
    guest_about = StringField(
        _l("One line about the guest (optional)"), validators=[Optional(), Length(max=guests.ABOUT_MAX)]
    )
    note = TextAreaField(
        _l("Your note: why should these two meet?"),
        validators=[DataRequired(message=_l("Write a note.")), Length(max=10_000)],
        description=_l(
            "At least %(n)d characters, in your own words. Both people will read it.", n=notes.MIN_LENGTH
        ),
    )
    need_id = HiddenField()
    chapter = SelectField(
        _l("Chapter"),
        validate_choice=False,
        validators=[Optional()],
        description=_l("Needed only when you share more than one chapter with both."),
    )

    def validate(self, extra_validators=None) -> bool:
        """The second party is a member or a guest: one of the two, not both."""
        if not super().validate(extra_validators):
            return False
        guest = bool(self.guest_name.data or self.guest_email.data)
        if bool(self.second_id.data) == guest:
            self.second_id.errors.append(
                _l("Choose the second person, or enter a guest's name and email address (not both).")
            )
            return False
        return True

    def guest(self) -> guests.GuestDetails | None:
        if self.second_id.data:
            return None
        return guests.GuestDetails(
            name=self.guest_name.data or "",
            email=self.guest_email.data or "",
            about=self.guest_about.data or "",
        )


class AnswerForm(Form):
    decision = RadioField(
        _l("Your answer"),
        choices=[SelectChoice(d.value) for d in Decision],
        validators=[InputRequired(message=_l("Choose accept or decline."))],
    )


class GuestAnswerForm(AnswerForm):
    """A guest's answer, with what they choose to share if they accept."""

    phone = StringField(_l("Your phone number (optional)"), validators=[Optional(), Length(max=40)])
    company = StringField(_l("Your company (optional)"), validators=[Optional(), Length(max=120)])


class OutcomeForm(Form):
    kind = SelectField(
        _l("What came of it?"),
        choices=[
            SelectChoice(OutcomeKind.MET.value, _l("We met")),
            SelectChoice(OutcomeKind.BUSINESS_CLOSED.value, _l("I received business from it")),
            SelectChoice(OutcomeKind.NOT_A_FIT.value, _l("Not a fit")),
        ],
    )
    amount = IntegerField(
        _l("Amount of business you received (whole units, only for business)"),
        validators=[Optional(), NumberRange(min=1, max=1_000_000_000)],
    )
