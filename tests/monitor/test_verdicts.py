"""A check's verdict: its limit, which way its statistic moved, one-sided checks."""

from fullcycle.monitor.verdicts import Check, Moved


def test_moved_says_the_direction_in_the_statistics_own_units():
    share = Moved("mean unseen-word share", 10.1, 5.1, "%")
    assert share.direction == "down"
    assert share.text() == "mean unseen-word share 10.1% -> 5.1% (down 5.0 points)"
    assert Moved("mean words per text", 412, 388).text() == (
        "mean words per text 412 -> 388 (down 24)"
    )
    assert Moved("AUC", 0.5, 0.71).text() == "AUC 0.500 -> 0.710 (up 0.210)"
    # one-sided: the unseen-word share falling past its limit is not drift; rising is
    fell = Check("oov_share", 0.4, 0.15, 0.2, share)
    assert fell.beyond_limit and fell.harmless_way and not fell.drift
    assert fell.to_dict()["one_sided"] == "up" and fell.to_dict()["moved"]["direction"] == "down"
    rose = Check("oov_share", 0.4, 0.15, 0.2, Moved("mean unseen-word share", 5.1, 10.1, "%"))
    assert rose.drift
    # two-sided: either way is drift
    shorter = Check("word_count", 0.4, 0.15, 0.2, Moved("mean words per text", 412, 300))
    assert shorter.drift and shorter.to_dict()["one_sided"] == "no"
