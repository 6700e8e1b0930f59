"""How a number is written in a sentence, shared by the domain's messages, the pages and the commands."""


def counted(count: int, plural: str) -> str:
    """`3 entries`, `1 entry`, `1 credit`: a number with its noun."""
    if abs(count) != 1:
        return f"{count} {plural}"
    return f"{count} {plural[:-3] + 'y' if plural.endswith('ies') else plural[:-1]}"
