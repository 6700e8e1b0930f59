"""The Form base: our input widgets write exactly what WTForms' own write."""

import pytest
from markupsafe import Markup
from wtforms.widgets.core import html_params

from referral_hub.web.accounts.forms import LoginForm, ProfileForm
from referral_hub.web.forms import attributes


@pytest.mark.parametrize(
    "params",
    [
        {"name": "headline", "id": "headline", "type": "text", "value": 'I sell "<widgets>" & more'},
        {"required": True, "disabled": False, "maxlength": 120, "aria_invalid": "false", "data_x_y": 1},
        {"aria-describedby": "a-hint a-error", "class_": "wide", "value": Markup('<b title="x">')},
        {"value": None, "list": "time-zones", "for_": "me"},
        {},
    ],
)
def test_attributes_are_written_as_wtforms_writes_them(params):
    assert attributes(**params) == html_params(**params)


def test_fields_draw_what_wtforms_own_widgets_draw(app):
    posted = {"website": 'x" onclick="y', "timezone": "<z>", "password": "secret", "language": "es"}
    with app.test_request_context("/profile", method="POST", data=posted):
        fields = [field for form in (ProfileForm(), LoginForm()) for field in form]
        ours = [field for field in fields if type(field.widget).__module__ == "referral_hub.web.forms"]
        kinds = {type(field.widget).__name__ for field in ours}
        assert kinds >= {"TextInput", "URLInput", "PasswordInput", "_Select"}
        for field in ours:
            drawn = field(aria_invalid="true")
            field.widget = type(field.widget).__mro__[1]()  # WTForms' own
            assert drawn == field(aria_invalid="true"), field.name
