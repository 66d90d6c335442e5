"""A stream tables page in the Airflow UI (Airflow 3.1+ plugin; see docs/ui.md).

`plugin.PgTrickleUIPlugin` is registered through the `airflow.plugins` entry point: a FastAPI
app mounted at `/pgtrickle` (`app.py`, data in `data.py`) and a navigation entry that shows the
page inside Airflow. The front end is plain JavaScript and CSS in `static/`, shipped in the
wheel; nothing is fetched from elsewhere at run time.
"""
