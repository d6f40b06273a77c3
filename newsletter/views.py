from django.http import Http404

def _todo(*args, **kwargs):
    raise Http404
home = issue_archive = issue_detail = section_detail = author_detail = tag_detail = _todo
paper_index = papers_bibtex = paper_detail = paper_bibtex = search = _todo
page_not_found = server_error = _todo
