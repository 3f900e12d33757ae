"""How much does masking personal data cost per served text? (capture runs in the request path)

Times `fullcycle.serve.pii.mask_pii` on the BBC News articles (real text, ~2,200 characters on
average) and on 50,000-character texts (serve.max_chars) built to be expensive: many digit groups,
many phone-like numbers. Ratios within one process; absolute times depend on the machine's load.

    python bench/mask_pii.py
"""

from __future__ import annotations

import time

from fullcycle.core.sources import read_bbc_news
from fullcycle.serve.pii import mask_pii


def timed(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        mask_pii(text)
    return time.perf_counter() - start


def main() -> None:
    news = list(read_bbc_news()["text"])
    chars = sum(map(len, news))
    seconds = timed(news)
    print(
        f"BBC News: {len(news)} texts, {chars / len(news):,.0f} chars on average: "
        f"{seconds / len(news) * 1e3:.2f} ms a text, {chars / seconds / 1e6:.2f} M chars/s"
    )
    worst = {
        "50k chars of words": "the quick brown fox " * 2500,
        "50k chars of 7-digit groups": "1234567 " * 6250,
        "50k chars with 3,300 phone numbers": ("tel 0301234567 " * 3400)[:50000],
        "50k chars of mixed short numbers": ("abc 123 def 4567 " * 3000)[:50000],
    }
    for name, text in worst.items():
        print(f"{name:<38}{timed([text]) * 1e3:8.0f} ms")


if __name__ == "__main__":
    main()
