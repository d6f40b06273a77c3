"""Issue #2 of the ML Safety Newsletter, structured by hand from `shared/seed/ml-safety-newsletter-2.txt`.

The text of every summary is the seed's, word for word; only structure (paragraphs, the list, the
links the plain-text copy lost) has been added back. Figures are placeholders drawn by `figures.py`:
the real issue's images are not part of the seed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .records import (
    AuthorRecord,
    FigureRecord,
    IssueRecord,
    PaperRecord,
    SectionRecord,
    SummaryRecord,
)

FEATURE, BRIEF, NEWS = "feature", "brief", "news"

SECTIONS = (
    SectionRecord(
        name="Robustness",
        slug="robustness",
        description="Withstanding hazards: adversarial robustness and robustness to distribution shift.",
        position=1,
    ),
    SectionRecord(
        name="Monitoring",
        slug="monitoring",
        description="Identifying hazards: anomaly detection, interpretability, calibration and "
        "detecting deception or hidden functionality.",
        position=2,
    ),
    SectionRecord(
        name="Alignment",
        slug="alignment",
        description="Reducing inherent model hazards: steering models towards human values, "
        "honesty and avoiding proxy gaming.",
        position=3,
    ),
    SectionRecord(
        name="Other News",
        slug="other-news",
        description="Grants, competitions, forecasts and other happenings in the field.",
        position=4,
    ),
)

DAN_HENDRYCKS = AuthorRecord(
    name="Dan Hendrycks",
    slug="dan-hendrycks",
    bio="Machine learning researcher working on ML safety: robustness, anomaly detection and machine "
    "ethics. PhD student at UC Berkeley when this issue was written; author of benchmarks such as "
    "ImageNet-C, ImageNet-R and ETHICS.",
    website="https://people.eecs.berkeley.edu/~hendrycks/",
)

INTRO = """\
As part of a larger community building effort, I am writing a safety newsletter which is designed \
to cover empirical safety research and be palatable to the broader machine learning research \
community. You can [subscribe here](https://newsletter.mlsafety.org/) or follow the newsletter on \
[twitter here](https://twitter.com/ml_safety).

Welcome to the 2nd issue of the ML Safety Newsletter. In this edition, we cover:

- adversarial training for continuous and discrete inputs
- feature visualizations vs. natural images for interpretability
- steering RL agents from causing wanton harm
- ... and much more.
"""

# --- Robustness -------------------------------------------------------------------------------

PYRAMID = SummaryRecord(
    section="robustness",
    kind=FEATURE,
    headline="Pyramid Adversarial Training Improves ViT Performance",
    figure_caption="Top: Visualization of adversarial pyramid perturbations. Bottom: In-distribution "
    "and out-of-distribution examples, and the gains from adversarial pyramid training.",
    figure=FigureRecord(
        slug="pyramid-adversarial-training",
        kind="pyramid",
        alt="Placeholder illustration. Top row: one image-sized perturbation drawn at three scales, "
        "coarse blocks, medium blocks and fine per-pixel noise, and their sum. Bottom: a bar chart "
        "with a grey and a blue bar for each of four test sets, one in-distribution and three "
        "out-of-distribution, the blue bars (pyramid adversarial training) taller than the grey "
        "(standard training). Bar heights are illustrative, not the paper's numbers.",
        params={
            "groups": ["In-distribution", "Corruptions", "Renditions", "Sketches"],
            "series": {"Standard training": [80, 62, 45, 33], "Pyramid adversarial": [82, 70, 53, 41]},
        },
    ),
    body="""\
While adversarial training can help make models more robust to a few specific attacks, it usually \
substantially reduces robustness in practical settings. However, this paper proposes a new type of \
adversarial training that provides strong robustness gains across the board. Adversarial training \
has been difficult to make useful, as the adversary often overpowers the model. By imposing a useful \
structural constraint on adversarial perturbations, their method reopens a research direction \
towards robust representations.
""",
    paper=PaperRecord(
        title="Pyramid Adversarial Training Improves ViT Performance",
        url="https://arxiv.org/abs/2111.15121",
        arxiv_id="2111.15121",
        authors="Charles Herrmann, Kyle Sargent, Lu Jiang, Ramin Zabih, Huiwen Chang, Ce Liu, "
        "Dilip Krishnan, Deqing Sun",
        venue="CVPR",
        year=2022,
    ),
    writer="dan-hendrycks",
    tags=("adversarial robustness", "vision transformers", "distribution shift"),
)

DYNAMIC_ADVERSARIAL = SummaryRecord(
    section="robustness",
    kind=FEATURE,
    headline="Analyzing Dynamic Adversarial Training Data in the Limit",
    figure_caption="Non-adversarial: just collect more data. Static adversarial: collect data to break "
    "the model from the first round. Dynamic adversarial: collect data to break the model from the "
    "most recent round.",
    figure=FigureRecord(
        slug="dynamic-adversarial-data",
        kind="lines",
        alt="Placeholder line chart of accuracy against rounds of data collection for three "
        "strategies: non-adversarial, static adversarial and dynamic adversarial. All three rise "
        "quickly over the first rounds and then flatten out, with the adversarial strategies a "
        "little above the non-adversarial one. The curves are illustrative, not the paper's data.",
        params={
            "title": "Accuracy after each round of data collection (illustrative)",
            "x_label": "Round of data collection",
            "y_label": "Accuracy",
            "x": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "series": {
                "Non-adversarial": [52, 60, 64, 66.5, 68, 69, 69.6, 70, 70.3, 70.5],
                "Static adversarial": [52, 62, 67, 69.5, 71, 72, 72.6, 73, 73.3, 73.5],
                "Dynamic adversarial": [52, 63, 68.5, 71, 72.6, 73.5, 74.1, 74.5, 74.8, 75],
            },
            "y_range": [40, 80],
        },
    ),
    body="""\
Imagine the following loop:

1. train a model on the current dataset
2. add new labeled examples to the dataset in order to patch model errors
3. repeat

Repeated many times, would models become highly reliable? Meta AI has been exploring this approach \
in [recent papers](https://arxiv.org/abs/2104.14337), and this Meta AI paper shows that this loop \
has sharply diminishing returns. This suggests that collecting a large amount of adversarially \
curated data is an impractical path towards human-level reliability. However, adversarially curated \
data is better than randomly curated data, which may be why companies such as Tesla use this loop.
""",
    paper=PaperRecord(
        title="Analyzing Dynamic Adversarial Training Data in the Limit",
        url="https://arxiv.org/abs/2110.08514",
        arxiv_id="2110.08514",
        authors="Eric Wallace, Adina Williams, Robin Jia, Douwe Kiela",
        venue="arXiv",
        year=2021,
    ),
    writer="dan-hendrycks",
    tags=("adversarial robustness", "data collection", "nlp"),
)

ROBUSTNESS_BRIEFS = (
    SummaryRecord(
        section="robustness",
        kind=BRIEF,
        headline="An adversarial NLP benchmark dataset that covers many different types of adversarial "
        "transformations.",
        paper=PaperRecord(
            title="Adversarial GLUE: A Multi-Task Benchmark for Robustness Evaluation of Language Models",
            url="https://arxiv.org/abs/2111.02840",
            arxiv_id="2111.02840",
            authors="Boxin Wang, Chejian Xu, Shuohang Wang, Zhe Gan, Yu Cheng, Jianfeng Gao, "
            "Ahmed Hassan Awadallah, Bo Li",
            venue="NeurIPS Datasets and Benchmarks",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("adversarial robustness", "nlp", "benchmarks"),
    ),
    SummaryRecord(
        section="robustness",
        kind=BRIEF,
        headline="In the NeurIPS domain adaptation competition, the winning solution did not use domain "
        "adaptation methods and just used an off-the-shelf Vision Transformer (BeIT).",
        paper=PaperRecord(
            # The competition's site lists the leaderboard and the winners' reports.
            title="VisDA-2021 Competition: Universal Domain Adaptation to Improve Performance on "
            "Out-of-Distribution Data",
            url="https://ai.bu.edu/visda-2021/",
            arxiv_id="2107.11011",
            authors="Dina Bashkirova, Dan Hendrycks, Donghyun Kim, Samarth Mishra, Kate Saenko, "
            "Kuniaki Saito, Piotr Teterwak, Ben Usman",
            venue="NeurIPS Competition Track",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("distribution shift", "domain adaptation", "vision transformers"),
    ),
    SummaryRecord(
        section="robustness",
        kind=BRIEF,
        headline="A collection of real-world images with unusual texture, 3D pose, shape, background "
        "context (spurious cues), and weather. Synthetic data augmentation helps with many of these "
        "real-world distribution shifts.",
        paper=PaperRecord(
            # First posted as "ROBIN: A Benchmark for Robustness to Individual Nuisances in
            # Real-World Out-of-Distribution Shifts".
            title="OOD-CV: A Benchmark for Robustness to Out-of-Distribution Shifts of Individual "
            "Nuisances in Natural Images",
            url="https://arxiv.org/abs/2111.14341",
            arxiv_id="2111.14341",
            authors="Bingchen Zhao, Shaozuo Yu, Wufei Ma, Mingxin Yu, Shenxiao Mei, Angtian Wang, "
            "Ju He, Alan Yuille, Adam Kortylewski",
            venue="ECCV",
            year=2022,
        ),
        writer="dan-hendrycks",
        tags=("distribution shift", "benchmarks", "data augmentation"),
    ),
)

# --- Monitoring -------------------------------------------------------------------------------

FEATURE_VISUALIZATIONS = SummaryRecord(
    section="monitoring",
    kind=FEATURE,
    headline="How Well do Feature Visualizations Support Causal Understanding of CNN Activations?",
    figure=FigureRecord(
        slug="feature-visualizations-vs-natural-images",
        kind="occlusion",
        alt="Placeholder illustration of the study's task. Two rows of image tiles: the top row "
        "shows abstract, swirling feature visualizations of a unit, the bottom row blocky natural "
        "image exemplars. On the right, two query images with the same patch occluded, labelled "
        "A and B, and the question: which one activates the unit more?",
        params={"seed": 7},
    ),
    body="""\
This paper tries to evaluate whether feature visualizations help users interpret neural networks. \
Users are given two occluded images, one that is maximally activating and one that is minimally \
activating, and users are to predict which is maximally activating.

While feature visualizations help users predict which image is maximally activating, the effect is \
minor and users perform similarly when given simpler natural images rather than feature \
visualizations.

This NeurIPS paper shares many authors with the \
[previous ICLR paper](https://arxiv.org/abs/2010.12606) which finds that natural images are often \
more helpful for interpretability than feature visualizations.
""",
    paper=PaperRecord(
        title="How Well do Feature Visualizations Support Causal Understanding of CNN Activations?",
        url="https://arxiv.org/abs/2106.12447",
        arxiv_id="2106.12447",
        authors="Roland S. Zimmermann, Judy Borowski, Robert Geirhos, Matthias Bethge, "
        "Thomas S. A. Wallis, Wieland Brendel",
        venue="NeurIPS",
        year=2021,
    ),
    writer="dan-hendrycks",
    tags=("interpretability", "feature visualization"),
)

MONITORING_BRIEFS = (
    SummaryRecord(
        section="monitoring",
        kind=BRIEF,
        headline="Adversarial patches can help to teach models how to locate anomalous regions.",
        paper=PaperRecord(
            title="Natural Synthetic Anomalies for Self-Supervised Anomaly Detection and Localization",
            url="https://arxiv.org/abs/2109.15222",
            arxiv_id="2109.15222",
            authors="Hannah M. Schlüter, Jeremy Tan, Benjamin Hou, Bernhard Kainz",
            venue="ECCV",
            year=2022,
        ),
        writer="dan-hendrycks",
        tags=("anomaly detection",),
    ),
    SummaryRecord(
        section="monitoring",
        kind=BRIEF,
        headline="A postprocessing method that helps models locate anomalous regions.",
        paper=PaperRecord(
            title="Standardized Max Logits: A Simple yet Effective Approach for Identifying Unexpected "
            "Road Obstacles in Urban-Scene Segmentation",
            url="https://arxiv.org/abs/2107.11264",
            arxiv_id="2107.11264",
            authors="Sanghun Jung, Jungsoo Lee, Daehoon Gwak, Sungha Choi, Jaegul Choo",
            venue="ICCV",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("anomaly detection", "segmentation"),
    ),
    SummaryRecord(
        section="monitoring",
        kind=BRIEF,
        headline="A dataset that captures instances of deception in negotiation conversations.",
        paper=PaperRecord(
            title="It Takes Two to Lie: One to Lie, and One to Listen",
            url="https://www.cs.cornell.edu/~cristian/Deception_conversational_dataset.html",
            authors="Denis Peskov, Benny Cheng, Ahmed Elgohary, Joe Barrow, "
            "Cristian Danescu-Niculescu-Mizil, Jordan Boyd-Graber",
            venue="ACL",
            year=2020,
        ),
        writer="dan-hendrycks",
        tags=("deception", "nlp", "benchmarks"),
    ),
)

# --- Alignment --------------------------------------------------------------------------------

JIMINY_CRICKET = SummaryRecord(
    section="alignment",
    kind=FEATURE,
    headline="What Would Jiminy Cricket Do? Towards Agents That Behave Morally",
    figure_caption="Moral knowledge from a classifier trained on ETHICS combined with standard "
    "Q-values creates agents that take fewer immoral actions.",
    figure=FigureRecord(
        slug="jiminy-cricket-policy-shaping",
        kind="flow",
        alt="Placeholder diagram of the method: a text-game observation goes to the RL agent, which "
        "proposes candidate actions with Q-values; a morality model trained on ETHICS scores each "
        "action; immoral actions are filtered out or down-weighted before the agent acts in the "
        "game, which returns the next observation and reward.",
        params={
            "title": "Policy shaping with a morality model",
            "steps": [
                "Text game\nobservation",
                "RL agent\nproposes actions\n(Q-values)",
                "ETHICS-trained\nmorality model\nscores actions",
                "Immoral actions\nfiltered out",
                "Action taken\nin the game",
            ],
            "loop_label": "next observation and reward",
        },
    ),
    body="""\
We repurposed text adventure games and annotated hundreds of thousands of lines of game source code \
to highlight whenever a morally salient event occurs. We found that roughly 17% of actions that \
receive reward are immoral—this suggests pretraining in diverse RL environments will incentivize \
agents to behave badly.

Using these diverse text-based environments, we showed it is possible to use models from the \
ETHICS paper to transform reinforcement learning (RL) agents' Q-values and cause them to behave \
less destructively. With our technique, agents propose actions, and a separate model can \
successfully filter out unethical actions, preventing RL agents from causing wanton harm.

If the action screening module can become highly reliable and adversarially robust, this could \
potentially prevent advanced agents from choosing many clearly harmful actions.
""",
    paper=PaperRecord(
        title="What Would Jiminy Cricket Do? Towards Agents That Behave Morally",
        url="https://arxiv.org/abs/2110.13136",
        arxiv_id="2110.13136",
        authors="Dan Hendrycks, Mantas Mazeika, Andy Zou, Sahil Patel, Christine Zhu, Jesus Navarro, "
        "Dawn Song, Bo Li, Jacob Steinhardt",
        venue="NeurIPS Datasets and Benchmarks",
        year=2021,
    ),
    writer="dan-hendrycks",
    tags=("machine ethics", "reinforcement learning"),
)

ALIGNMENT_BRIEFS = (
    SummaryRecord(
        section="alignment",
        kind=BRIEF,
        headline="Mitigating unintended consequences by encouraging agents to take reversible actions.",
        paper=PaperRecord(
            title="There Is No Turning Back: A Self-Supervised Approach for Reversibility-Aware "
            "Reinforcement Learning",
            url="https://arxiv.org/abs/2106.04480",
            arxiv_id="2106.04480",
            authors="Nathan Grinsztajn, Johan Ferret, Olivier Pietquin, Philippe Preux, Matthieu Geist",
            venue="NeurIPS",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("reinforcement learning", "side effects"),
    ),
    SummaryRecord(
        section="alignment",
        kind=BRIEF,
        headline="A method to reduce the gaming of model-based proxies.",
        paper=PaperRecord(
            title="Conservative Objective Models for Effective Offline Model-Based Optimization",
            url="https://arxiv.org/abs/2107.06882",
            arxiv_id="2107.06882",
            authors="Brandon Trabucco, Aviral Kumar, Xinyang Geng, Sergey Levine",
            venue="ICML",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("proxy gaming",),
    ),
    SummaryRecord(
        section="alignment",
        kind=BRIEF,
        headline="Towards a text-based assistant that is helpful, honest, and harmless.",
        paper=PaperRecord(
            title="A General Language Assistant as a Laboratory for Alignment",
            url="https://arxiv.org/abs/2112.00861",
            arxiv_id="2112.00861",
            authors="Amanda Askell, Yuntao Bai, Anna Chen, Dawn Drain, Deep Ganguli, Tom Henighan, "
            "Andy Jones, Nicholas Joseph, Ben Mann, et al.",
            venue="arXiv",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("honesty", "language models"),
    ),
)

OPEN_PHILANTHROPY_RFP = (
    "https://www.openphilanthropy.org/"
    "request-for-proposals-for-projects-in-ai-alignment-that-work-with-deep-learning-systems/"
)

# --- Other News -------------------------------------------------------------------------------

OTHER_NEWS = (
    SummaryRecord(
        section="other-news",
        kind=NEWS,
        headline="Mathematical Reasoning Forecasting",
        body="""\
OpenAI’s [eighth-grade arithmetic word problems dataset](https://arxiv.org/abs/2110.14168) is \
challenging even for fine-tuned GPT-3, showing that multistep mathematical reasoning is difficult \
for today’s largest models. However, computers are quite capable of executing multiple steps of \
instructions to calculate answers to maths problems. A \
[recent work](https://arxiv.org/abs/2111.08267) shows Codex can be leveraged to write computer \
programs that successfully solve undergraduate probability problems. The Codex model outputs a \
programmatic strategy to reach the answer, and the computer performs the busy work needed to \
execute the strategy and calculate the answer.
""",
        paper=PaperRecord(
            title="Training Verifiers to Solve Math Word Problems",
            url="https://arxiv.org/abs/2110.14168",
            arxiv_id="2110.14168",
            authors="Karl Cobbe, Vineet Kosaraju, Mohammad Bavarian, Mark Chen, Heewoo Jun, "
            "Lukasz Kaiser, Matthias Plappert, Jerry Tworek, Jacob Hilton, Reiichiro Nakano, "
            "Christopher Hesse, John Schulman",
            venue="arXiv",
            year=2021,
        ),
        writer="dan-hendrycks",
        tags=("forecasting", "mathematical reasoning", "language models"),
    ),
    SummaryRecord(
        section="other-news",
        kind=NEWS,
        headline="Grants",
        body=f"""\
Open Philanthropy will [fund grants]({OPEN_PHILANTHROPY_RFP}) on measuring and forecasting AI \
risks, techniques for enhancing human feedback, interpretability, and honest AI. \
Applications are due January 10th, 2022.
""",
        writer="dan-hendrycks",
        tags=("grants",),
    ),
)

SEED_ISSUE = IssueRecord(
    number=2,
    title="Adversarial Training, Feature Visualization, and Machine Ethics",
    intro=INTRO,
    # The title makes an 88-character subject and the first preheader had 148: both past the
    # limits the pre-publish checks set (78 and 140), so the email says it in fewer words.
    subject="ML Safety Newsletter #2: Adversarial Training and Machine Ethics",
    preheader="Adversarial training for continuous and discrete inputs, feature visualizations vs. "
    "natural images, and keeping RL agents from wanton harm.",
    # The issue covers the VisDA-2021 results (announced 7 December 2021) and a grant deadline of
    # 10 January 2022; it went out in between.
    published_at=datetime(2021, 12, 13, 17, 0, tzinfo=UTC),
    authors=("dan-hendrycks",),
    tags=("adversarial robustness", "interpretability", "machine ethics", "anomaly detection"),
    summaries=(
        PYRAMID,
        DYNAMIC_ADVERSARIAL,
        *ROBUSTNESS_BRIEFS,
        FEATURE_VISUALIZATIONS,
        *MONITORING_BRIEFS,
        JIMINY_CRICKET,
        *ALIGNMENT_BRIEFS,
        *OTHER_NEWS,
    ),
)
