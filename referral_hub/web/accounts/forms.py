"""Forms for accounts and profiles; each field says what it accepts."""

import re

from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, AnyOf, DataRequired, Email, Length, Optional, ValidationError

from ...accounts.photos import MAX_PHOTO_BYTES, TOO_LARGE
from ...accounts.services import PASSWORD_MAX, PASSWORD_MIN, check_address, check_display_name
from ...errors import DomainError
from ...i18n import LANGUAGES, not_a_time_zone, time_zones
from ...i18n import lazy_gettext as _l
from ..forms import Form


def _by_rule(rule):
    """A field validator that applies the service's own rule and shows its message."""

    def validate(_form, field) -> None:
        try:
            rule(field.data or "")
        except DomainError as error:
            raise ValidationError(error.message) from error

    return validate


def _password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                PASSWORD_MIN,
                PASSWORD_MAX,
                message=_l("Use %(least)d to %(most)d characters.", least=PASSWORD_MIN, most=PASSWORD_MAX),
            ),
        ],
    )


def _email(*rules) -> EmailField:
    return EmailField(
        _l("Email address"),
        validators=[
            DataRequired(),
            Length(max=254),
            Email(message=_l("Enter a valid email address.")),
            *rules,
        ],
    )


def _display_name() -> StringField:
    return StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=80), _by_rule(check_display_name)]
    )


class RegisterForm(Form):
    display_name = _display_name()
    email = _email(_by_rule(check_address))
    password = _password(_l("Password"))


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class ForgotPasswordForm(Form):
    """Asks for a mailed link: to reset the password, or to sign in."""

    email = _email()


class ResetPasswordForm(Form):
    password = _password(_l("New password"))


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    new_password = _password(_l("New password"))


class ConfirmForm(Form):
    """A button alone: email links act only on POST, never on GET."""


WEB_ADDRESS = _l("Enter a web address such as example.com or https://example.com.")


def _with_scheme(value: str | None) -> str | None:
    """`example.com` means `https://example.com`: members type addresses as they say them."""
    value = (value or "").strip()
    if value and not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE):
        return f"https://{value}"
    return value


def _web_address(_form, field) -> None:
    """One message for any address that is not a web page's (http or https, with a host)."""
    try:
        URL(message=WEB_ADDRESS)(_form, field)
    except ValidationError:
        raise ValidationError(WEB_ADDRESS) from None
    if not re.match(r"^https?://", field.data, re.IGNORECASE):
        raise ValidationError(WEB_ADDRESS)


def _known_time_zone(_form, field) -> None:
    if field.data.strip() not in time_zones():
        raise ValidationError(not_a_time_zone(field.data))


class ProfileForm(Form):
    display_name = _display_name()
    headline = StringField(
        _l("Headline: what you do, in one line"),
        validators=[Optional(), Length(max=120)],
        description=_l('For example "I sell widgets to hospitals".'),
    )
    expertise = StringField(
        _l("Expertise keywords"),
        validators=[Optional(), Length(max=300)],
        description=_l("Comma-separated, for example: payroll, small business tax."),
    )
    ideal_referral = StringField(
        _l("Your ideal referral"),
        validators=[Optional(), Length(max=300)],
        description=_l("Who should members send your way?"),
    )
    company = StringField(_l("Company"), validators=[Optional(), Length(max=120)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    website = URLField(
        _l("Website"),
        filters=[_with_scheme],
        validators=[Optional(), Length(max=200), _web_address],
        description=_l("For example example.com or https://example.com/about."),
    )
    phone = StringField(
        _l("Phone (private: shared only after an introduction both sides accept)"),
        validators=[Optional(), Length(max=40)],
    )
    bio = TextAreaField(_l("Short bio"), validators=[Optional(), Length(max=1000)])
    # Two choices rather than a checkbox: a form posted without the field leaves the setting alone.
    weekly_digest = RadioField(
        _l("Weekly digest email"),
        choices=[
            SelectChoice(
                True, _l("Send me the weekly digest: who to keep in touch with, needs I may help with")
            ),
            SelectChoice(False, _l("No weekly digest")),
        ],
        coerce=lambda value: value if isinstance(value, bool) else value == "True",
        validators=[Optional()],
    )
    language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As your browser asks")),
            *(SelectChoice(c, n) for c, n in LANGUAGES.items()),
        ],
        validators=[Optional()],
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[Optional(), _known_time_zone],
        description=_l("An IANA name such as Europe/Madrid; leave it empty to use your first chapter's."),
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"},
    )


class CodeForm(Form):
    """A code from the authenticator app, or one of the recovery codes."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(message=_l("Type the code.")), Length(max=32)],
        description=_l("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )


def _current_password() -> PasswordField:
    return PasswordField(_l("Your current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class EmailChangeForm(Form):
    email = EmailField(
        _l("New email address"),
        validators=[
            DataRequired(),
            Length(max=254),
            Email(message=_l("Enter a valid email address.")),
            _by_rule(check_address),
        ],
        description=_l("We email a link to this address; the change is made when you open it."),
    )
    password = _current_password()


class DeleteAccountForm(Form):
    password = _current_password()
    code = StringField(
        _l("Two-factor code"),
        validators=[Optional(), Length(max=32)],
        description=_l("Two-factor sign-in is on: the 6 digits your app shows now, or a recovery code."),
    )
    # Sent by the form's button (name="confirm" value="yes"), as every destructive action's is.
    confirm = StringField(validators=[AnyOf(["yes"], message=_l("Press “Delete my account” to confirm."))])


class PhotoForm(Form):
    photo = FileField(
        _l("Your photo"),
        validators=[
            FileRequired(message=_l("Choose a photo to upload.")),
            FileSize(MAX_PHOTO_BYTES, message=TOO_LARGE),
        ],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
        description=_l(
            "A JPEG, PNG or WebP picture up to 5 MB. We crop it square and remove its hidden "
            "details (camera, place, date) before anyone sees it."
        ),
    )
