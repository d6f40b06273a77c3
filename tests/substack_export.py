"""Substack exports built by the tests, in the format Substack's Settings > Exports produces.

The ZIP holds `posts.csv` (post_id as `<id>.<slug>`, post_date, is_published, email_sent_at,
type, audience, title, subtitle, podcast_url), `posts/<id>.<slug>.html` (each post's body, as
Substack writes it: captioned-image containers, button-wrapper paragraphs, subscription widgets)
and the email list, `email_list.<publication>.csv` (email, active_subscription, expiry, plan,
email_disabled, created_at, first_payment_at). `SEED_ISSUE_HTML` is issue #2 of the ML Safety
Newsletter (shared/seed/) as Substack would have rendered it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

POSTS_COLUMNS = [
    "post_id",
    "post_date",
    "is_published",
    "email_sent_at",
    "inbox_sent_at",
    "type",
    "audience",
    "title",
    "subtitle",
    "podcast_url",
]
READER_COLUMNS = [
    "email",
    "active_subscription",
    "expiry",
    "plan",
    "email_disabled",
    "created_at",
    "first_payment_at",
]

SUBSCRIBE_BUTTON = (
    '<p class="button-wrapper" data-attrs=\'{"url":"https://mlsafety.substack.com/subscribe?",'
    '"text":"Subscribe now","class":null}\'><a class="button primary" '
    'href="https://mlsafety.substack.com/subscribe?"><span>Subscribe now</span></a></p>'
)
SHARE_BUTTON = (
    '<p class="button-wrapper" data-attrs="{&quot;url&quot;:&quot;https://mlsafety.substack.com/'
    "?utm_source=substack&amp;utm_medium=email&amp;utm_content=share&amp;action=share&quot;,"
    '&quot;text&quot;:&quot;Share ML Safety Newsletter&quot;}"><a class="button primary" '
    'href="https://mlsafety.substack.com/?utm_source=substack&amp;utm_medium=email&amp;'
    'utm_content=share&amp;action=share"><span>Share ML Safety Newsletter</span></a></p>'
)
SUBSCRIPTION_WIDGET = (
    '<div class="subscription-widget-wrap" data-attrs="{&quot;url&quot;:&quot;https://mlsafety.'
    'substack.com/subscribe?&quot;,&quot;text&quot;:&quot;Subscribe&quot;}"><div class="'
    'subscription-widget show-subscribe"><div class="preamble"><p class="cta-caption">Thanks for '
    "reading ML Safety Newsletter! Subscribe for free to receive new posts and support my work.</p>"
    '</div><form class="subscription-widget-subscribe"><input type="email" class="email-input" '
    'name="email" placeholder="Type your email…" tabindex="-1"><input type="submit" class="button '
    'primary" value="Subscribe"></form></div></div>'
)
THANKS = (
    "<p>Thanks for reading ML Safety Newsletter! Subscribe for free to receive new posts and "
    "support my work.</p>"
)


def figure(src: str, caption: str, alt: str = "") -> str:
    """A figure as Substack writes it: the CDN link around a <picture>, the original in src."""
    cdn = "https://substackcdn.com/image/fetch/f_auto,q_auto:good,fl_progressive:steep/" + src.replace(
        ":", "%3A"
    ).replace("/", "%2F")
    return (
        '<div class="captioned-image-container"><figure><a class="image-link image2 is-viewable-img" '
        f'target="_blank" href="{cdn}"><div class="image2-inset"><picture><source type="image/webp" '
        f'srcset="{cdn} 424w"><img src="{src}" width="1200" height="800" alt="{alt}" '
        'class="sizing-normal" loading="lazy"></picture></div></a>'
        f'<figcaption class="image-caption">{caption}</figcaption></figure></div>'
    )


def seed_issue_html(image_base: str) -> str:
    """Issue #2 of the ML Safety Newsletter (shared/seed/) in Substack's HTML, its figures
    served from `image_base` (the test's local server); the jiminy figure's URL fails there."""
    return f"""
<p>As part of a larger community building effort, I am writing a safety newsletter which is designed
to cover empirical safety research and be palatable to the broader machine learning research
community. You can <a href="https://newsletter.mlsafety.org/">subscribe here</a> or follow the
newsletter on <a href="https://twitter.com/ml_safety">twitter here</a>.</p>
{SUBSCRIBE_BUTTON}
<p>Welcome to the 2nd issue of the ML Safety Newsletter. In this edition, we cover:</p>
<ul><li><p>adversarial training for continuous and discrete inputs</p></li>
<li><p>feature visualizations vs. natural images for interpretability</p></li>
<li><p>steering RL agents from causing wanton harm</p></li>
<li><p>... and much more.</p></li></ul>
<div><hr></div>
<h1>Robustness</h1>
<h3><strong>Pyramid Adversarial Training Improves ViT Performance</strong></h3>
{
        figure(
            image_base + "/pyramid.png",
            "Top: Visualization of adversarial pyramid perturbations. "
            "Bottom: In-distribution and out-of-distribution examples, and the gains from adversarial "
            "pyramid training.",
            alt="Pyramid perturbations",
        )
    }
<p>While adversarial training can help make models more robust to a few specific attacks, it usually
substantially reduces robustness in practical settings. However, this paper proposes a new type of
adversarial training that provides strong robustness gains across the board.</p>
<p>Adversarial training has been difficult to make useful, as the adversary often overpowers the
model. By imposing a useful structural constraint on adversarial perturbations, their method
reopens a research direction towards robust representations.</p>
<p><a href="https://arxiv.org/abs/2111.15121">[Paper]</a></p>
<h3><strong>Analyzing Dynamic Adversarial Training Data in the Limit</strong></h3>
{
        figure(
            image_base + "/dynamic.jpg",
            "Non-adversarial: just collect more data. Static adversarial: "
            "collect data to break the model from the first round.",
        )
    }
<p>Imagine the following loop:</p>
<ol><li><p>train a model on the current dataset</p></li>
<li><p>add new labeled examples to the dataset in order to patch model errors</p></li>
<li><p>repeat</p></li></ol>
<p>Repeated many times, would models become highly reliable? Meta AI has been exploring this approach
in <a href="https://arxiv.org/abs/2104.14337">recent papers</a>, and this Meta AI paper shows that
this loop has <em>sharply diminishing returns</em>.</p>
<p><a href="https://arxiv.org/abs/2110.08514v2">[Paper]</a></p>
<h3>Other Recent Robustness News</h3>
<ul><li><p>An adversarial NLP benchmark dataset that covers many different types of adversarial
transformations. <a href="https://arxiv.org/abs/2111.02840">[Link]</a></p></li>
<li><p>In the NeurIPS domain adaptation competition, the winning solution did not use domain
adaptation methods and just used an off-the-shelf Vision Transformer (BeIT).
<a href="https://ai.bu.edu/visda-2021/">[Link]</a></p></li>
<li><p>A collection of real-world images with unusual texture, 3D pose, shape, background context
(spurious cues), and weather. <a href="https://arxiv.org/abs/2111.04074">[Link]</a></p></li></ul>
{SUBSCRIPTION_WIDGET}
<div><hr></div>
<h1>Monitoring</h1>
<h3><strong>How Well do Feature Visualizations Support Causal Understanding of CNN Activations?</strong></h3>
{figure(image_base + "/occlusion.png", "Users are given two occluded images.")}
<p>This paper tries to evaluate whether feature visualizations help users interpret neural
networks.</p>
<p><a href="https://arxiv.org/abs/2106.12447">[Paper]</a></p>
<h3>Other Recent Monitoring Papers</h3>
<ul><li><p>Adversarial patches can help to teach models how to locate anomalous regions.
<a href="https://arxiv.org/abs/2111.09123">[Link]</a></p></li>
<li><p>A postprocessing method that helps models locate anomalous regions.
<a href="https://arxiv.org/abs/2111.00001">[Link]</a></p></li>
<li><p>A dataset that captures instances of deception in negotiation conversations.
<a href="https://aclanthology.org/2021.acl-long.2">[Link]</a></p></li></ul>
<div><hr></div>
<h1>Alignment</h1>
<h3><strong>What Would Jiminy Cricket Do? Towards Agents That Behave Morally</strong></h3>
{figure(image_base + "/missing-jiminy.png", "Moral knowledge from a classifier trained on ETHICS.")}
<p>We repurposed text adventure games and annotated hundreds of thousands of lines of game source
code to highlight whenever a morally salient event occurs.</p>
<p><a href="https://arxiv.org/abs/2110.13136">[Paper]</a></p>
<h3>Other Recent Alignment Papers</h3>
<ul><li><p>Mitigating unintended consequences by encouraging agents to take reversible actions.
<a href="https://arxiv.org/abs/2106.04480">[Link]</a></p></li>
<li><p>A method to reduce the gaming of model-based proxies.
<a href="https://arxiv.org/abs/2110.02337">[Link]</a></p></li>
<li><p>Towards a text-based assistant that is helpful, honest, and harmless.
<a href="https://arxiv.org/abs/2112.00861">[Link]</a></p></li></ul>
<div><hr></div>
<h1>Other News</h1>
<p><strong>Mathematical Reasoning Forecasting.</strong> OpenAI’s eighth-grade arithmetic
<a href="https://arxiv.org/abs/2110.14168">word problems dataset</a> is challenging even for
fine-tuned GPT-3.</p>
<p>However, computers are quite capable of executing multiple steps of instructions.</p>
<p><strong>Grants.</strong> Open Philanthropy will <a href="https://www.openphilanthropy.org/">fund
grants</a> on measuring and forecasting AI risks. Applications are due January 10th, 2022.</p>
{SHARE_BUTTON}
{THANKS}
"""


@dataclass
class Post:
    id: str
    slug: str
    title: str
    html: str
    subtitle: str = ""
    post_date: str = "2022-01-03T17:00:00.000Z"
    is_published: bool = True
    type: str = "newsletter"
    audience: str = "everyone"
    podcast_url: str = ""

    @property
    def post_id(self) -> str:
        return f"{self.id}.{self.slug}"


@dataclass
class Reader:
    email: str
    created_at: str = "2021-10-01T12:00:00.000Z"
    email_disabled: bool = False
    active_subscription: bool = False
    plan: str = ""
    expiry: str = ""
    first_payment_at: str = ""


@dataclass
class Export:
    posts: list[Post] = field(default_factory=list)
    readers: Iterable[Reader] = ()
    publication: str = "mlsafety"
    extra_files: dict[str, bytes] = field(default_factory=dict)

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            self.write(archive)
        return buffer.getvalue()

    def write_to(self, path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            self.write(archive)

    def write(self, archive: zipfile.ZipFile) -> None:
        archive.writestr("posts.csv", posts_csv(self.posts))
        for post in self.posts:
            archive.writestr(f"posts/{post.post_id}.html", post.html)
            # Substack also writes per-post statistics beside the body; the importer ignores them.
            archive.writestr(f"posts/{post.post_id}.opens.csv", "email,post_id,timestamp\n")
        with archive.open(f"email_list.{self.publication}.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(READER_COLUMNS)
            for reader in self.readers:
                writer.writerow(
                    [
                        reader.email,
                        _bool(reader.active_subscription),
                        reader.expiry,
                        reader.plan,
                        _bool(reader.email_disabled),
                        reader.created_at,
                        reader.first_payment_at,
                    ]
                )
            text.flush()
            text.detach()
        for name, data in self.extra_files.items():
            archive.writestr(name, data)


def posts_csv(posts: list[Post]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(POSTS_COLUMNS)
    for post in posts:
        writer.writerow(
            [
                post.post_id,
                post.post_date,
                _bool(post.is_published).upper(),
                post.post_date if post.is_published else "",
                "",
                post.type,
                post.audience,
                post.title,
                post.subtitle,
                post.podcast_url,
            ]
        )
    return out.getvalue()


def _bool(value: bool) -> str:
    return "true" if value else "false"
