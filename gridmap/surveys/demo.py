"""The demo town's survey: a residents' satisfaction questionnaire we wrote (three ratings that
count in satisfaction, a question on awareness of the campaign, a free suggestion), answered in
every community, more content in some than others. Loading again adds nothing."""

from __future__ import annotations

import random
import uuid

from gridmap.geography.models import Community
from gridmap.surveys.models import Answer, Question, Response, Survey

QUESTIONS = [
    (1, "您对社区环境卫生满意吗？", "Are you satisfied with the cleanliness of the community?", "rating", True),
    (2, "您对小区停车秩序满意吗？", "Are you satisfied with parking in your compound?", "rating", True),
    (3, "您对社区公共设施（路灯、垃圾桶、无障碍设施）满意吗？",
     "Are you satisfied with public facilities (lights, bins, barrier-free paths)?", "rating", True),
    (4, "您知道本市正在创建全国文明城市吗？", "Do you know the city is running for the civilized-city title?", "yes_no", False),
    (5, "您对社区还有什么建议？", "Any suggestion for the community?", "text", False),
]  # fmt: skip
MOODS = (4.3, 3.6, 3.1, 2.4)  # the mean rating the communities lean to, by code order
PER_COMMUNITY = 24


def demo_fill() -> None:
    if Survey.objects.exists():
        return
    survey = Survey.objects.create(title="2026年居民满意度调查", title_en="Residents' satisfaction 2026")
    questions = [
        Question.objects.create(
            survey=survey, number=n, text=t, text_en=e, kind=k, satisfaction=s, required=k != "text"
        )
        for n, t, e, k, s in QUESTIONS
    ]
    rng = random.Random(2026)
    for i, community in enumerate(Community.objects.order_by("code")):
        mood = MOODS[i % len(MOODS)]
        for r in range(PER_COMMUNITY):
            response = Response.objects.create(survey=survey, community=community, source=Response.Source.IMPORT,
                                               client_id=uuid.uuid5(uuid.NAMESPACE_URL, f"demo-survey-{community.code}-{r}"))  # fmt: skip
            answers = []
            for q in questions:
                if q.kind == "rating":
                    answers.append(
                        Answer(
                            response=response, question=q, number=min(5, max(1, round(rng.gauss(mood, 0.8))))
                        )
                    )
                elif q.kind == "yes_no":
                    answers.append(
                        Answer(
                            response=response, question=q, number=1 if rng.random() < 0.5 + mood / 10 else 0
                        )
                    )
            Answer.objects.bulk_create(answers)
