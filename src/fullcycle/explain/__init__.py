"""Explain: which words drove a prediction (integrated gradients with captum).

- attribute.py  the attributions themselves, one text or a batch (torch + captum)
- stage.py      `fullcycle explain`: the test texts worth a reviewer's look -> reports/explain/
- page.py       the self-contained HTML page (escaped text, words highlighted)
- summary.py    top words per class: summary.json, the model card section, the promotion PR section
- serving.py    what POST /explain needs: its input/output schema and the /classify-first gate
"""
