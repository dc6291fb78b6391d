from django import forms

from . import parsers


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input multiple>, as Django's documentation builds it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ".zip,.json,.csv,application/zip,application/json,text/csv"}
            ),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple) and data:
            return [single(item, initial) for item in data]
        if isinstance(data, list | tuple):
            data = None  # nothing chosen: the field's "required" message
        return [single(data, initial)]


class HistoryImportForm(forms.Form):
    # Named as the upload field has always been; the class attribute shadows Form.files only for
    # the type checker (Django moves declared fields into base_fields).
    files = MultipleFileField(  # type: ignore[assignment]
        label="Your TV Time or Trakt export",
        help_text=(
            "The .zip from TV Time or Trakt as it arrived, or the .csv and .json files in it; "
            f"several at once, up to {parsers.MAX_UPLOAD_BYTES // 1024 // 1024} MB in all."
        ),
    )

    def clean_files(self):
        uploads = self.cleaned_data["files"]
        total = sum(upload.size for upload in uploads)
        if total > parsers.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The upload is {total / 1024 / 1024:.1f} MB; the limit is "
                f"{parsers.MAX_UPLOAD_BYTES // 1024 // 1024} MB. Upload the zip rather than the "
                "files in it, or split it into several uploads."
            )
        try:
            self.cleaned_data["parsed"] = parsers.read_uploads(
                [(upload.name, upload.read()) for upload in uploads]
            )
        except parsers.HistoryError as error:
            raise forms.ValidationError(error.problems) from None
        return uploads


class ConfirmImportForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
