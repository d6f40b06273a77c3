from django.http import Http404

def _todo(*args, **kwargs):
    raise Http404
outbox_list = outbox_detail = outbox_html = _todo
