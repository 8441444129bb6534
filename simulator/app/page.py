"""The what-if page (``geosim app``), built with Solara in the style of Mesa's visualisation.

Mesa's ``SolaraViz`` steps one model and rebuilds it from user parameters; this page compares
many worlds at once, so its comparison is custom Solara, while the parts that fit use Mesa's
own pieces: the levers and the one-world controls are Mesa ``Slider`` parameters drawn by
Mesa's ``UserInputs``, and the one-world panel steps a ``CeasefireModel`` month by month and
redraws through Mesa's ``update_counter`` / ``force_update``, as ``SolaraViz`` does. (Mesa's
``ModelController`` is not used: its reset rebuilds a model with Mesa's own scenario class,
which is not geosim's.)

The page reads its settings from the environment, which ``geosim app`` sets:
``GEOSIM_APP_SCENARIO`` (a built-in scenario's name or a file), ``GEOSIM_APP_WORLDS``,
``GEOSIM_APP_SEED`` and ``GEOSIM_APP_OPTIONS`` (comma-separated, beside the baseline).
"""

from __future__ import annotations

import html
import io
import os
import threading
import time
import warnings
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import solara
import solara.lab
from matplotlib.figure import Figure
from mesa.visualization import Slider
from mesa.visualization.solara_viz import UserInputs
from mesa.visualization.utils import force_update, update_counter

from simulator.app.compute import (COLUMNS, DEFAULT_WORLDS, DIFFERENCES, Answer, OneWorld, Question, compare,
                                   numbers, one_world, scenario_named)
from simulator.app.levers import Lever, levers, reached, scenario_text, starting_value
from simulator.data import scenario_names
from simulator.report.figures import plot_differences, plot_price, plot_survival, plot_world
from simulator.report.labels import percent, points

AS_OPTION = "as each option says"
SWITCH = {"on": True, "off": False}
DEBOUNCE = 0.1  # seconds a slider must rest before its answer is computed (a drag sends many values)
DPI = 80


def _env_int(name: str) -> int | None:
    text = os.environ.get(name, "").strip()
    return int(text) if text else None


SCENARIO = os.environ.get("GEOSIM_APP_SCENARIO", "").strip() or "ukraine_2025"
WORLDS = _env_int("GEOSIM_APP_WORLDS") or DEFAULT_WORLDS
SEED = _env_int("GEOSIM_APP_SEED")
OPTIONS = [o for o in os.environ.get("GEOSIM_APP_OPTIONS", "").split(",") if o.strip()]


def default_options(ref: str, wanted: list[str] | None = None) -> list[str]:
    """The options compared at first, beside the baseline: ``wanted``, else the first two others."""
    sc = scenario_named(ref)
    others = [o for o in sc.options if o != sc.baseline]
    chosen = [o for o in (wanted or []) if o in others]
    return chosen or others[:2]


def scenario_choices() -> list[str]:
    return list(dict.fromkeys([SCENARIO, *scenario_names()]))


# Each browser tab has its own values of these (Solara keeps reactive variables per session).
scenario_ref = solara.reactive(SCENARIO)
chosen = solara.reactive(default_options(SCENARIO, OPTIONS))
lever_values: solara.Reactive[dict[str, Any]] = solara.reactive({})
world_option: solara.Reactive[str | None] = solara.reactive(None)
world_index = solara.reactive(0)
rewinds = solara.reactive(0)  # "Back to month 0" presses since the world was chosen: the panel starts at month 0


def question_now() -> Question:
    return Question.of(scenario_ref.value, chosen.value, lever_values.value, WORLDS, SEED)


# ------------------------------------------------------------------------------------ sidebar
def choose_scenario(ref: str) -> None:
    scenario_ref.set(ref)
    chosen.set(default_options(ref))
    lever_values.set({})
    world_option.set(None)


@solara.component
def ScenarioControls() -> None:
    sc = scenario_named(scenario_ref.value)
    others = [o for o in sc.options if o != sc.baseline]
    solara.Select("Scenario", values=scenario_choices(), value=scenario_ref.value, on_value=choose_scenario)

    def set_options(values: list[str]) -> None:
        # At least one option beside the baseline: emptied, the list falls back to the first.
        chosen.set([o for o in others if o in values] or others[:1])

    solara.SelectMultiple("Options compared with the baseline", values=chosen.value, all_values=others,
                          on_value=set_options)
    solara.Text(f"Baseline: {sc.baseline}. {WORLDS:,} shared worlds, seed {sc.seed if SEED is None else SEED}.",
                classes=["geosim-settings"], style={"font-size": "0.85em"})


def _user_param(lever: Lever, value: Any) -> Any:
    """The lever as a Mesa user parameter: a ``Slider``, or a Select of three for a switch.

    The label is shown above it (a long label beside a slider leaves the slider no room)."""
    if lever.is_switch:
        shown = AS_OPTION if value is None else ("on" if value else "off")
        return {"type": "Select", "label": "", "value": shown, "values": [AS_OPTION, "on", "off"]}
    return Slider("", value=value, min=lever.low, max=lever.high, step=lever.step,
                  dtype=int if lever.is_whole else float)


def set_lever(key: str, value: Any) -> None:
    values = dict(lever_values.value)
    if value == AS_OPTION:
        values.pop(key, None)
    else:
        values[key] = SWITCH.get(value, value) if isinstance(value, str) else value
    lever_values.set(values)


def lever_class(key: str) -> str:
    """The CSS class of a lever's box: ``geosim-lever-united_kingdom-troops_offered``."""
    return "geosim-lever-" + key.replace(".", "-")


def _shown(lever: Lever, value: Any) -> str:
    if lever.is_switch:
        return "on" if value else "off"
    return f"{value:,}" if lever.is_whole else f"{value:g}"


@solara.component
def LeverControls(options: tuple[str, ...]) -> None:
    sc = scenario_named(scenario_ref.value)
    values = lever_values.value
    for lever in levers(sc):
        set_here = lever.key in values
        value = values.get(lever.key) if set_here else (None if lever.is_switch else
                                                         starting_value(sc, lever, options))
        with solara.Div(classes=["geosim-lever", lever_class(lever.key)], style={"margin-bottom": "10px"}):
            solara.Text(lever.label, style={"font-size": "0.85em", "font-weight": "bold"})
            UserInputs({lever.key: _user_param(lever, value)}, on_change=set_lever)
            if set_here:
                where = ", ".join(reached(sc, lever, options)) or "none of the chosen options"
                note = f"set to {_shown(lever, values[lever.key])} in: {where}"
            else:
                note = "as in the scenario: " + scenario_text(sc, lever, options)
            solara.Text(note, classes=["geosim-lever-note"], style={"font-size": "0.75em", "color": "#555"})
    solara.Button("Back to the scenario's values", on_click=lambda: lever_values.set({}), outlined=True,
                  disabled=not values, classes=["geosim-reset"])


# --------------------------------------------------------------------------------- comparison
def _share(row: pd.Series, column: str) -> str:
    return f"{percent(row[column])} ({100 * row[column + '_lo']:.1f}-{100 * row[column + '_hi']:.1f})"


def _points(row: pd.Series, measure: str) -> str:
    d = row[f"d_{measure}"]
    if pd.isna(d):
        return "n/a"
    return f"{points(d)} ({100 * row[f'd_{measure}_lo']:+.1f} to {100 * row[f'd_{measure}_hi']:+.1f})"


def numbers_html(table: pd.DataFrame) -> str:
    """The numbers as an HTML table; each cell's id is ``n-OPTION-COLUMN`` (``d_MEASURE`` for a difference)."""
    head = ["option", *(h for _, h, _ in COLUMNS), *(h for _, h in DIFFERENCES)]
    rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for option, r in table.iterrows():
        cells = [f"<td><b>{html.escape(str(option))}</b></td>"]
        for column, _, kind in COLUMNS:
            text = _share(r, column) if kind == "share" else f"{r[column]:,.0f}"
            cells.append(f'<td id="n-{option}-{column}" data-value="{r[column]:.6g}">{text}</td>')
        for measure, _ in DIFFERENCES:
            cells.append(f'<td id="n-{option}-d_{measure}" data-value="{r[f"d_{measure}"]:.6g}">'
                         f"{_points(r, measure)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    style = ("border-collapse:collapse;font-size:0.85em;", "padding:2px 6px;border-bottom:1px solid #ddd;")
    return (f'<table style="{style[0]}">' + "".join(rows).replace("<td", f'<td style="{style[1]}"')
            .replace("<th>", f'<th style="{style[1]}text-align:left">') + "</table>")


def headline(answer: Answer) -> str:
    """One sentence on the first option against the baseline, from the numbers."""
    table = numbers(answer.results)
    base = answer.results.baseline
    option = next(o for o in table.index if o != base)
    r, b = table.loc[option], table.loc[base]
    return (f"{option}: an agreed ceasefire holds 36 months in {percent(r['p_hold_36_if_agreed'])} of worlds "
            f"({base}: {percent(b['p_hold_36_if_agreed'])}), with a deal in {percent(r['p_agreed'])} "
            f"({percent(b['p_agreed'])}); holding overall {points(r['d_hold_36'])} points "
            f"({100 * r['d_hold_36_lo']:+.1f} to {100 * r['d_hold_36_hi']:+.1f}), paired over "
            f"{answer.question.worlds:,} shared worlds.")


_drawing = threading.Lock()  # one figure at a time: pyplot (plot_world) keeps global state


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def comparison_png(draw: Any, answer: Answer) -> bytes:
    """One of the report's figures (survival, differences, price) of an answer, as PNG bytes."""
    with _drawing:
        fig = Figure(figsize=(7.2, 4.6))
        draw(answer.results, ax=fig.subplots())
        fig.tight_layout()
        return _png(fig)


def world_png(trace: pd.DataFrame, world: int) -> bytes:
    """The report's one-world figure of a trace, as PNG bytes."""
    with _drawing, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # month 0: a range of one month
        fig = plot_world(trace, world)
        try:
            return _png(fig)
        finally:
            plt.close(fig)  # drawn with pyplot: let it go once it is an image


@solara.component
def Picture(make: Any, key: list[Any], classes: list[str], style: dict[str, str] | None = None) -> None:
    """A figure drawn in the background; the last one stays until the next is ready.

    ``make`` gives PNG bytes, or PNG bytes and a caption shown under the figure."""
    task = solara.lab.use_task(make, dependencies=key)
    data = task.value if task.finished else task.latest
    with solara.Div(classes=classes, style=style or {}):
        if data is None:
            solara.ProgressLinear(True)
            return
        png, caption = data if isinstance(data, tuple) else (data, "")
        solara.Image(png)
        if caption:
            solara.Text(caption, classes=["geosim-caption"], style={"font-size": "0.75em", "color": "#555"})


@solara.component
def Comparison(answer: Answer, pending: bool) -> None:
    levers_set = "; ".join(f"{k}={v}" for k, v in answer.question.levers) or "none (the scenario's values)"
    how = "reused" if answer.reused else f"computed in {answer.seconds:.2f} s"
    solara.Text(f"{how} on {answer.question.worlds:,} shared worlds, seed {answer.question.seed} "
                f"(common random numbers). Levers set: {levers_set}.", classes=["geosim-status"],
                style={"font-size": "0.85em"})
    solara.ProgressLinear(pending)
    solara.Text(headline(answer), classes=["geosim-headline"], style={"font-weight": "bold"})
    solara.HTML(tag="div", unsafe_innerHTML=numbers_html(numbers(answer.results)), classes=["geosim-numbers"])
    key = [answer.question]
    with solara.Columns([1, 1]):
        Picture(lambda: comparison_png(plot_survival, answer), key, ["geosim-survival"])
        Picture(lambda: comparison_png(plot_differences, answer), key, ["geosim-differences"])
    with solara.Columns([1, 1]):
        Picture(lambda: comparison_png(plot_price, answer), key, ["geosim-price"])
        solara.Markdown(READING)


READING = """
**Reading the figures.** Survival curves follow the agreed ceasefires only; the legend gives each
option's chance of a deal, and holding overall is that chance times the curve. The differences
are paired world by world against the baseline, in percentage points: for holding, more is
better; for a direct clash, more is worse. The price plots the risk of a direct clash against
holding for 36 months, with aid and troops in the legend. Every option runs on the same worlds
(the same seed), so a moved lever changes the answer, not the dice.
"""


# ---------------------------------------------------------------------------------- one world
def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda x: f"{x:.3g}", border=0)


@solara.component
def OneWorldPanel(question: Question) -> None:
    options = list(question.options)
    option = world_option.value if world_option.value in options else options[min(1, len(options) - 1)]
    index = min(world_index.value, question.worlds - 1)

    def fresh() -> OneWorld:
        world = one_world(question, option, index)
        if not rewinds.value:
            world.run()  # a world is first shown whole
        return world

    world = solara.use_memo(fresh, [question, option, index, rewinds.value])
    update_counter.get()  # Mesa's counter: redraw after each step

    def on_change(name: str, value: Any) -> None:
        rewinds.set(0)  # another world: show its whole story first
        if name == "option":
            world_option.set(value)
        elif value is not None:
            world_index.set(min(max(int(value), 0), question.worlds - 1))

    UserInputs({"option": {"type": "Select", "label": "Option", "value": option, "values": options},
                "world": Slider("World index", value=index, min=0, max=question.worlds - 1, step=1, dtype=int)},
               on_change=on_change)
    solara.InputInt("or type a world index", value=index, on_value=lambda v: on_change("world", v),
                    classes=["geosim-world-index"])

    def step(months: int) -> None:
        world.step(months)
        force_update()

    with solara.Row():
        solara.Button("Back to month 0", on_click=lambda: rewinds.set(rewinds.value + 1), outlined=True)
        solara.Button("+1 month", on_click=lambda: step(1), disabled=world.done, classes=["geosim-step"])
        solara.Button("+12 months", on_click=lambda: step(12), disabled=world.done)
        solara.Button("To the end", on_click=lambda: step(world.horizon), disabled=world.done,
                      classes=["geosim-end"])
    solara.Text(world.status(), classes=["geosim-world-status"], style={"font-weight": "bold"})
    trace = solara.use_memo(world.trace, [world, world.month])  # a copy: the figure is drawn from it meanwhile
    month = world.month
    Picture(lambda: (world_png(trace, world.world), f"Figure: world {world.world} under {option}, months 0 to {month}"),
            [world, month], ["geosim-world"], {"max-width": "900px"})
    last = trace.tail(1).drop(columns=["world"])
    solara.HTML(tag="div", unsafe_innerHTML=_table_html(last), style={"font-size": "0.75em", "overflow-x": "auto"})
    with solara.Details("What this world drew (its uncertain inputs)"):
        solara.HTML(tag="div", unsafe_innerHTML=_table_html(world.drew()), style={"font-size": "0.75em"})


# --------------------------------------------------------------------------------------- page
@solara.component
def Page() -> None:
    question = question_now()
    latest = solara.use_ref(question)
    latest.current = question

    def work() -> Answer | None:
        time.sleep(DEBOUNCE)
        if latest.current != question:
            return None  # the slider moved on: only its last position is computed
        return compare(question)

    task = solara.lab.use_task(work, dependencies=[question])
    answer = task.value if task.finished and task.value is not None else task.latest

    solara.Title("geosim what-if")
    with solara.AppBar():
        solara.AppBarTitle(f"geosim what-if: {question.scenario}")
    with solara.Sidebar():
        with solara.Card("Scenario and options"):
            ScenarioControls()
        with solara.Card("Levers"):
            LeverControls(question.options)
    with solara.Column(style={"padding": "8px"}):
        if task.error:
            solara.Error(f"Could not compute: {task.exception}")
        if answer is None:
            solara.Text("Computing the first answer...", classes=["geosim-status"])
            solara.ProgressLinear(True)
        else:
            Comparison(answer, pending=bool(task.pending))
            with solara.Card("One world, month by month"):
                OneWorldPanel(answer.question)  # follows the answer shown, once it is computed
