"""JSON whose strings cannot close a tag: ``<``, ``>`` and ``&`` are written as ``\\u003c``,
``\\u003e`` and ``\\u0026``. A petitioner's text is data; if a response is ever sniffed as HTML or
pasted into a page, ``</script><script>…`` stays inert. The parsed JSON is unchanged."""

from rest_framework.renderers import JSONRenderer

# Outside strings JSON has no <, > or &, so replacing them everywhere only touches string content.
_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


class SafeJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        body = super().render(data, accepted_media_type, renderer_context)
        for raw, escaped in _ESCAPES:
            body = body.replace(raw, escaped)
        return body
