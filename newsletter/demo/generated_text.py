"""The words the generated demo issues are made of: invented writers, methods and researchers,
and templates for feature summaries, briefs and news items with `{method}`/`{target}` slots.

All of it is fictional on purpose; `generated.py` fills the templates in, one issue at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import AuthorRecord

DEMO_WRITERS = (
    AuthorRecord(
        name="Maya Okafor",
        slug="maya-okafor",
        bio="A fictional writer of the demo publication. Covers robustness and monitoring research.",
    ),
    AuthorRecord(
        name="Jonas Lindqvist",
        slug="jonas-lindqvist",
        bio="A fictional writer of the demo publication. Covers alignment research and community news.",
    ),
)
WRITER_FOR_SECTION = {
    "robustness": "maya-okafor",
    "monitoring": "maya-okafor",
    "alignment": "jonas-lindqvist",
    "other-news": "jonas-lindqvist",
}

DEMO_NOTE = (
    "*This is a demo issue: its papers, people and results are fictional, generated so the archive "
    "has something to show.*"
)

METHODS = (
    "ShiftMix", "Lantern", "Keel", "Tessera", "Bastion", "Driftguard", "Quill", "Harbor", "Sentinel",
    "Cairn", "Lodestar", "Prism", "Anchor", "Trellis", "Beacon", "Moraine", "Juniper", "Vantage",
)  # fmt: skip
RESEARCHERS = (
    "Lena Ortiz", "Kenji Watanabe", "Amara Nwosu", "Tomasz Zielinski", "Priya Raman", "Sofia Marchetti",
    "Daniel Cohen", "Mei Lin", "Oluwaseun Adeyemi", "Hannah Becker", "Rafael Souza", "Aiko Tanaka",
    "Viktor Petrov", "Chloe Dubois", "Arjun Mehta", "Ingrid Haugen", "Samuel Osei", "Yara Haddad",
)  # fmt: skip


@dataclass(frozen=True)
class FeatureTemplate:
    """One kind of feature summary; `{method}` and `{target}` are filled in per issue."""

    section: str
    topic: str  # a short phrase for the issue title and the intro's bullet list
    paper_title: str
    headline: str
    body: str
    targets: tuple[str, ...]
    figure_kind: str
    tags: tuple[str, ...]
    # What the placeholder chart shows: groups, series names, axis labels and, for line charts, a
    # shape ("converge", "grow" or "proxy"); `{method}` is filled in like the text.
    figure_labels: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class BriefTemplate:
    section: str
    topic: str
    headline: str
    paper_title: str
    targets: tuple[str, ...]
    tags: tuple[str, ...]


FEATURES = (
    FeatureTemplate(
        section="robustness",
        topic="augmentations for {target}",
        paper_title="{method}: Mixing Augmentations for Robustness to {target_title}",
        headline="{method} makes image classifiers more robust to {target}",
        body="""\
Most robustness methods trade one kind of reliability for another: a model that copes with noise \
may do worse on renditions, and vice versa. This paper proposes **{method}**, a data augmentation \
that mixes each training image with randomly composed, structurally complex patterns, and reports \
gains on {target} without hurting clean accuracy.

The authors evaluate on a suite of held-out shifts that were not used to design the augmentation, \
which makes the result more convincing than the usual single-benchmark comparison. The gains are \
largest for the most severe shifts.

Augmentation is cheap and easy to adopt, so methods like this are among the most practical \
robustness tools available today; the open question is how far they carry over to shifts that \
look nothing like the patterns being mixed in.
""",
        targets=(
            "weather corruptions",
            "sketch renditions",
            "sensor noise",
            "low-light images",
            "JPEG artifacts",
        ),
        figure_kind="bars",
        tags=("distribution shift", "data augmentation"),
        figure_labels={
            "groups": ("Clean", "Mild shift", "Moderate shift", "Severe shift"),
            "series": ("Baseline", "{method}"),
            "y_label": "Accuracy (%)",
        },
    ),
    FeatureTemplate(
        section="robustness",
        topic="cheaper adversarial training",
        paper_title="{method}: Adversarial Training at a Fraction of the Cost on {target_title}",
        headline="Adversarial training with {method} costs a fraction of the compute on {target}",
        body="""\
Adversarial training remains the most reliable defence against adversarial examples, but it \
multiplies the cost of training by the number of attack steps. **{method}** reuses perturbations \
across epochs and only refreshes them for examples the model currently gets wrong.

On {target}, the method reaches the robust accuracy of standard multi-step adversarial training \
with roughly a third of the compute, and the savings grow with model size.

Cheaper adversarial training matters for safety because it makes robustness experiments on large \
models affordable to academic labs, not only to the largest companies.
""",
        targets=(
            "ImageNet-scale classifiers",
            "speech recognisers",
            "vision transformers",
            "object detectors",
        ),
        figure_kind="lines",
        tags=("adversarial robustness",),
        figure_labels={
            "shape": "converge",
            "series": ("Standard adversarial training", "{method}"),
            "x_label": "Training compute (GPU-days)",
            "y_label": "Robust accuracy (%)",
        },
    ),
    FeatureTemplate(
        section="robustness",
        topic="paraphrase attacks on {target}",
        paper_title="Paraphrase Attacks Expose Brittle {target_title} Models",
        headline="Meaning-preserving paraphrases still fool {target} models",
        body="""\
This paper asks annotators to rewrite test inputs without changing their meaning, then keeps the \
rewrites that flip a model's prediction. Even the largest fine-tuned language models lose a large \
share of their accuracy on {target} under these natural paraphrases.

Unlike character-level attacks, the rewrites read naturally and survive spell-checking, so they \
are closer to what a deployed model will actually see. The authors release the rewrites as a \
benchmark, with a held-out split for evaluating defences.

The results suggest that adversarial robustness in language is far from solved, and that scale \
alone is not closing the gap.
""",
        targets=(
            "question answering",
            "sentiment analysis",
            "toxicity classification",
            "natural language inference",
        ),
        figure_kind="bars",
        tags=("adversarial robustness", "nlp", "benchmarks"),
        figure_labels={
            "groups": ("Original inputs", "Paraphrased", "Adversarial paraphrases"),
            "series": ("Smaller model", "Largest model"),
            "y_label": "Accuracy (%)",
        },
    ),
    FeatureTemplate(
        section="monitoring",
        topic="post-hoc out-of-distribution detection",
        paper_title="{method}: A Post-hoc Score for Detecting Out-of-Distribution {target_title}",
        headline="{method}: a post-hoc score that flags out-of-distribution {target}",
        body="""\
Detecting inputs a model was never trained for is a prerequisite for knowing when not to trust \
it. **{method}** is a post-hoc score: it needs no retraining and no outlier data, only the logits \
and the penultimate features of an already-trained classifier.

On a benchmark of out-of-distribution {target}, the score improves AUROC over the maximum softmax \
probability baseline on every dataset tested, with the biggest gains on near-distribution \
anomalies that share low-level statistics with the training data.

Because it is post-hoc, the method can be added to models already in production, which makes it \
an easy baseline for future anomaly detection papers to beat.
""",
        targets=("images", "medical scans", "satellite images", "text inputs"),
        figure_kind="bars",
        tags=("anomaly detection",),
        figure_labels={
            "groups": ("Near OOD", "Far OOD", "Corrupted inputs", "Textures"),
            "series": ("Max softmax baseline", "{method}"),
            "y_label": "AUROC (%)",
        },
    ),
    FeatureTemplate(
        section="monitoring",
        topic="calibration under shift",
        paper_title="How Well Calibrated Are {target_title} Under Distribution Shift?",
        headline="{target_cap} grow overconfident as the data drifts",
        body="""\
A model's confidence is only useful if it means something. This paper measures the calibration \
of {target} as test data drifts further from the training distribution, across dozens of shifts \
of increasing severity.

Calibration error grows steadily with severity for every model tested. Temperature scaling on \
in-distribution data barely helps; ensembles and pretraining on more diverse data help most.

For monitoring, the lesson is that confidence scores should be validated on shifted data before \
they are used to decide when a human should take over.
""",
        targets=("large language models", "image classifiers", "speech recognisers", "tabular models"),
        figure_kind="lines",
        tags=("calibration", "distribution shift"),
        figure_labels={
            "shape": "grow",
            "series": ("Single model", "Ensemble"),
            "x_label": "Shift severity",
            "y_label": "Calibration error (%)",
        },
    ),
    FeatureTemplate(
        section="monitoring",
        topic="finding trojans in {target}",
        paper_title="{method}: Detecting Trojans in {target_title}",
        headline="{method} finds hidden trojans in {target}",
        body="""\
A trojaned model behaves normally until it sees a secret trigger. **{method}** searches for \
triggers by optimising small input patterns that push many clean inputs to the same output, and \
flags models for which such a pattern is unusually easy to find.

Across a set of {target} with planted trojans of several kinds, the detector finds most of them \
at a low false-positive rate, though triggers designed to evade it remain hard to catch.

Trojan detection is a useful test bed for monitoring: we know the ground truth, so we can measure \
how well our tools find hidden functionality before we need them on models where we do not.
""",
        targets=("image classifiers", "language models", "reinforcement learning agents"),
        figure_kind="heatmap",
        tags=("trojans", "interpretability"),
    ),
    FeatureTemplate(
        section="alignment",
        topic="measuring proxy gaming",
        paper_title="Measuring Proxy Gaming in {target_title}",
        headline="Optimising a learned proxy too hard lowers the true objective in {target}",
        body="""\
When an optimiser is pointed at a learned proxy of what we want, it eventually finds inputs the \
proxy scores highly but the true objective does not. This paper measures the effect in {target}, \
where the true objective can be computed exactly.

As optimisation pressure increases, the proxy score keeps rising while the true score peaks and \
then falls. Larger proxies delay the turning point but do not remove it; penalising distance from \
the training data helps most.

Environments with a known ground truth make proxy gaming measurable, which is the first step to \
building proxies that are harder to game.
""",
        targets=(
            "molecule design tasks",
            "simulated recommender systems",
            "text summarisation",
            "robot locomotion",
        ),
        figure_kind="lines",
        tags=("proxy gaming",),
        figure_labels={
            "shape": "proxy",
            "series": ("Proxy score", "True score"),
            "x_label": "Optimisation steps",
            "y_label": "Score",
        },
    ),
    FeatureTemplate(
        section="alignment",
        topic="moral trade-offs for {target}",
        paper_title="A Benchmark of Moral Trade-offs for {target_title}",
        headline="A benchmark of moral trade-offs for {target}",
        body="""\
Most ethics benchmarks ask whether an action is acceptable in isolation. This paper builds \
scenarios for {target} in which reward and morality conflict, and measures how often agents take \
the rewarding but harmful option.

Agents trained only on reward take the harmful option often. Adding a learned morality prior to \
the action selection cuts the rate substantially at a small cost in reward, echoing earlier \
results on text-based games.

Benchmarks like this make the trade-off between capability and harm avoidance measurable, so that \
progress on one is not silently paid for with the other.
""",
        targets=("text-based agents", "language model assistants", "game-playing agents"),
        figure_kind="bars",
        tags=("machine ethics",),
        figure_labels={
            "groups": ("Easy scenarios", "Mixed scenarios", "Hard scenarios"),
            "series": ("Reward-only agent", "With a morality prior"),
            "y_label": "Harmful actions avoided (%)",
        },
    ),
    FeatureTemplate(
        section="alignment",
        topic="honest answers from {target}",
        paper_title="{method}: Do {target_title} Say What They Believe?",
        headline="Probing whether {target} say what they believe",
        body="""\
A model that answers truthfully on easy questions may still repeat popular misconceptions on hard \
ones. **{method}** compares what {target} say with what linear probes of their internal \
representations suggest they know.

The two often disagree: on questions where the popular answer is wrong, the probe is right more \
often than the model's stated answer, suggesting the model knows more than it says.

Closing that gap, or at least detecting it, is a concrete step towards honest models whose \
outputs can be taken at face value.
""",
        targets=("language models", "chat assistants", "question-answering systems"),
        figure_kind="bars",
        tags=("honesty", "language models"),
        figure_labels={
            "groups": ("Easy questions", "Popular misconceptions", "Adversarial questions"),
            "series": ("Stated answers", "Probe of internal state"),
            "y_label": "Accuracy (%)",
        },
    ),
    FeatureTemplate(
        section="alignment",
        topic="penalising irreversible side effects",
        paper_title="{method}: Penalising Irreversible Side Effects in {target_title}",
        headline="{method} steers agents away from irreversible side effects in {target}",
        body="""\
An agent that can undo its mistakes is safer than one that cannot. **{method}** learns which \
transitions are hard to reverse from the agent's own experience, then penalises them during \
training, without access to the true cost of side effects.

In {target}, agents trained with the penalty complete their tasks about as often as unpenalised \
agents while causing far fewer irreversible changes to the environment.

Reversibility is a task-agnostic proxy for caution, which makes it attractive when we cannot \
specify everything an agent should leave alone.
""",
        targets=("gridworld environments", "household simulators", "robotic manipulation tasks"),
        figure_kind="flow",
        tags=("reinforcement learning", "side effects"),
    ),
)

BRIEFS = (
    BriefTemplate(
        "robustness",
        "vision benchmarks",
        "A benchmark of {target} that exposes failures of today's largest vision models.",
        "A Benchmark of {target_title} for Vision Models",
        ("naturally occurring corruptions", "unusual viewpoints", "rare weather conditions"),
        ("distribution shift", "benchmarks"),
    ),
    BriefTemplate(
        "robustness",
        "robustness at scale",
        "Larger pretrained models are more robust to {target}, but the gap closes slowly.",
        "Scaling Laws for Robustness to {target_title}",
        ("texture shifts", "geographic shift", "rendition shift"),
        ("distribution shift", "scaling"),
    ),
    BriefTemplate(
        "robustness",
        "word-substitution attacks",
        "An attack that fools {target} with a handful of word substitutions.",
        "Few-Word Substitution Attacks on {target_title}",
        ("toxicity filters", "spam classifiers", "fact-checking models"),
        ("adversarial robustness", "nlp"),
    ),
    BriefTemplate(
        "monitoring",
        "anomaly datasets",
        "A dataset of {target} for evaluating anomaly detectors.",
        "A Dataset of {target_title} for Anomaly Detection",
        ("industrial defects", "unusual road obstacles", "rare medical findings"),
        ("anomaly detection", "benchmarks"),
    ),
    BriefTemplate(
        "monitoring",
        "selective prediction",
        "Models can flag their own mistakes on {target} with a simple confidence score.",
        "Selective Prediction for {target_title}",
        ("long-tail classes", "out-of-domain questions", "noisy transcripts"),
        ("calibration",),
    ),
    BriefTemplate(
        "monitoring",
        "attribution methods",
        "Interpretability tools disagree about which features {target} rely on.",
        "Do Attribution Methods Agree on {target_title}?",
        ("image classifiers", "sentiment models", "protein models"),
        ("interpretability",),
    ),
    BriefTemplate(
        "alignment",
        "conservative reward models",
        "A reward model that is harder to game when optimised for {target}.",
        "Conservative Reward Models for {target_title}",
        ("summarisation", "dialogue", "code generation"),
        ("proxy gaming",),
    ),
    BriefTemplate(
        "alignment",
        "misconceptions",
        "Language models often repeat common misconceptions about {target}.",
        "Measuring Misconceptions About {target_title} in Language Models",
        ("health", "law", "history"),
        ("honesty", "language models"),
    ),
    BriefTemplate(
        "alignment",
        "ethical judgements",
        "A benchmark of human ethical judgements about {target}.",
        "Ethical Judgements About {target_title}: A Benchmark",
        ("everyday dilemmas", "workplace scenarios", "resource allocation"),
        ("machine ethics", "benchmarks"),
    ),
)

NEWS = (
    (
        "Competition",
        "A new competition invites methods that detect anomalies in {target}. Prizes go to the top "
        "three teams, and the organisers will publish every submission's code after the deadline.",
        ("driving scenes", "satellite images", "network traffic"),
        ("competitions",),
    ),
    (
        "Workshop",
        "A workshop on {target} will be held at a major machine learning conference this year; "
        "submissions of four pages are welcome, including negative results.",
        ("ML safety", "robustness and monitoring", "alignment of language models"),
        ("workshops",),
    ),
    (
        "Course",
        "A free online course on {target} opens for enrolment, with weekly readings, coding "
        "assignments and discussion sections.",
        ("ML safety", "adversarial robustness", "interpretability"),
        ("courses",),
    ),
    (
        "Grants",
        "A foundation will fund research on {target}; proposals of up to two years are welcome from "
        "academia, industry and independent researchers.",
        ("evaluating dangerous capabilities", "honest AI", "anomaly detection"),
        ("grants",),
    ),
)
