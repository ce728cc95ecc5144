"""The draft 票决办法 of one round, article by article, from the round's own copy of the rules
and the round itself: what the presidium adopts before the vote. The words of each setting
are the ones the rule profile's pages use (`profiles.describe`), so the draft says what the
count will do."""

from flask_babel import lazy_gettext as _l

from voting_app.ballots import profiles
from voting_app.ballots.counting import CHOOSE_UP_TO, FOR_AGAINST, RANK, SATISFACTION
from voting_app.ballots.models import ELECTRONIC, Round


def article_label(number: int) -> str:
    """第一条 in Chinese, Article 1 in English."""
    return str(_l("Article %(number)s", number=profiles.chinese_number(number) if profiles.in_chinese() else number))


def title(round_: Round) -> str:
    """In Chinese a round named …票决 gets …票决办法, not …票决票决办法."""
    if profiles.in_chinese() and round_.title.endswith("票决"):
        return f"{round_.title}办法"
    return str(_l("票决办法 of %(title)s", title=round_.title))


def _subject(round_: Round) -> str:
    candidates, places = len(round_.candidates), round_.seats
    if round_.method == SATISFACTION:
        return str(_l("The session assesses by secret ballot how satisfied the deputies are with the delivery of %(count)s "
                      "livelihood projects, listed in the annex.", count=candidates))
    if round_.method == FOR_AGAINST:
        return str(_l("The session votes by secret ballot on each of %(count)s candidate projects, listed in the annex; "
                      "at most %(places)s are adopted.", count=candidates, places=places))
    return str(_l("The session chooses by secret ballot %(places)s livelihood projects from %(count)s candidate projects, "
                  "listed in the annex: %(extra)s more candidates than places (差额). The 票决办法 asks for: %(margin)s.",
                  places=places, count=candidates, extra=candidates - places, margin=profiles.describe(round_.rules)["margin"]))


def _method(round_: Round) -> str:
    places = round_.seats
    if round_.method == CHOOSE_UP_TO:
        return str(_l("Each deputy marks at most %(places)s candidates. A ballot that marks more than %(places)s is void; "
                      "one that marks %(places)s or fewer is valid; a blank ballot is valid and marks no one.", places=places))
    if round_.method == RANK:
        return str(_l("Each deputy numbers at most %(places)s candidates 1, 2, 3 and so on in order of priority (轻重缓急), "
                      "without repeating or skipping a number. A ballot that numbers more than %(places)s candidates or "
                      "names one twice is void; a blank ballot is valid. On a valid ballot a candidate numbered 1 earns "
                      "%(places)s points, number 2 one less, and so on.", places=places))
    if round_.method == FOR_AGAINST:
        return str(_l("For each candidate the deputy marks for, against or abstain; a candidate left unmarked abstains."))
    return str(_l("For each project the deputy marks satisfied, mostly satisfied or dissatisfied; a project left "
                  "unmarked is not rated on that ballot."))


def _mode(round_: Round) -> str:
    if round_.planned_mode == ELECTRONIC:
        return str(_l("Deputies vote in person on the electronic voting system; no one may vote for another (不得委托). "
                      "If the system fails, the vote goes on by paper ballot under the scrutineers."))
    return str(_l("Deputies vote in person by paper ballot; no one may vote for another (不得委托)."))


def _passing(round_: Round) -> str:
    rules = round_.rules
    if round_.method == SATISFACTION:
        return str(_l("Grading: %(assessment)s. The result also gives the overall satisfaction rate over all the "
                      "projects rated.", assessment=profiles.describe(rules)["assessment"]))
    base = profiles.describe(rules)["pass_base"]
    order = (_l("If more candidates pass than there are places, the places go to those with the most votes, then "
                "the most points; the passed candidates are published in that order of priority.")
             if round_.method == RANK else
             _l("If more candidates pass than there are places, the places go to those with the most votes."))
    return str(_l("A candidate %(rule)s (the base: %(base)s). %(order)s", rule=profiles.pass_rule_words(rules), base=base, order=order))


def articles(round_: Round, adopted_by: str) -> list[tuple[str, str]]:
    """The numbered articles, in order: (label, text)."""
    rules = round_.rules
    words = profiles.describe(rules)
    texts = [
        str(_l("This 办法 is made under the Organic Law of the Local People’s Congresses and Local People’s Governments of "
               "the People’s Republic of China and this congress’s rules on deputies’ votes on livelihood projects "
               "(民生实事项目人大代表票决制).")),
        _subject(round_),
        _method(round_),
        _mode(round_),
        str(_l("The vote opens only with a quorum: %(quorum)s.", quorum=words["quorum"])),
        _passing(round_),
    ]
    if round_.method != SATISFACTION:
        texts.append(str(_l("If candidates tie for the last places: %(tie)s.", tie=words["tie"])))
        texts.append(str(_l("If fewer candidates pass than there are places: %(shortfall)s.", shortfall=words["shortfall"])))
    texts += [
        str(_l("If more ballots are returned than were issued, the vote is void and is held again; if as many or "
               "fewer are returned, it is valid.")),
        str(_l("The presidium names from the deputies who are not on the presidium a chief scrutineer (总监票人) and "
               "scrutineers (监票人), who oversee the issuing, casting and counting of the ballots and sign the count "
               "report (计票报告单). The presiding officer announces the result the scrutineers have confirmed.")),
        str(_l("The result is published by a 公告 of the presidium and on the system’s public pages, with every ballot "
               "under its receipt code and no voter’s name, so that anyone can count again.")),
        str(_l("This 办法 takes effect once adopted by %(body)s.", body=adopted_by)),
    ]
    return [(article_label(number), text) for number, text in enumerate(texts, start=1)]
