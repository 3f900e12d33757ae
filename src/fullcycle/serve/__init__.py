"""Packaging and serving: `fullcycle package` (model store + bento + .bento archive) and the
BentoML service behind `fullcycle serve`, `bentoml serve` (source) and `bentoml serve <bento>`.

Nothing is imported here: `fullcycle --help` and the other stages never pay for BentoML.
"""
