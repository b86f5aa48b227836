"""Shapes of the album pages' forms; the services check the rules."""

from django import forms

from albums.models import DESCRIPTION_MAX, TITLE_MAX, Aspect


class AlbumForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CoverForm(forms.Form):
    item_id = forms.UUIDField()
    aspect = forms.ChoiceField(choices=Aspect.choices)
    # the crop box in fractions of the photo; absent (no JS): the largest centred box
    x = forms.FloatField(required=False)
    y = forms.FloatField(required=False)
    width = forms.FloatField(required=False)
    height = forms.FloatField(required=False)
