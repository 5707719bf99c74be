"""A live `textpro serve` (uvicorn on a free port): the official openai client, and the page in headless Chromium."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.serve_support import QUESTION, b64, live_server, spoken, untrained_served

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server_url():
    from textpro.serve import ServeSettings, create_app

    app = create_app(untrained_served(), ServeSettings(max_new_tokens=12, api_key="test-key"))
    with live_server(app) as url:
        yield url


def test_openai_client_chat_with_an_audio_part(server_url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server_url}/v1", api_key="test-key")
    model = client.models.list().data[0].id
    completion = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": b64(spoken()), "format": "wav"}}]}],
    )
    assert "Paris" in completion.choices[0].message.content
    assert completion.model == model
    assert "capital of France" in completion.model_extra["textpro"]["transcript"]

    stream = client.chat.completions.create(
        model=model, stream=True,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Answer briefly."},
            {"type": "input_audio", "input_audio": {"data": b64(spoken()), "format": "wav"}}]}],
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "Paris" in "".join(pieces) and len([p for p in pieces if p]) > 1

    transcript = client.audio.transcriptions.create(model=model, file=("q.wav", spoken(), "audio/wav"))
    assert transcript.text.startswith("What is the capital of France")


def test_openai_client_raises_its_usual_errors(server_url):
    import openai

    client = openai.OpenAI(base_url=f"{server_url}/v1", api_key="test-key", max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="textpro", messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "%%%", "format": "wav"}}]}])
    assert bad.value.code == "invalid_base64"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server_url}/v1", api_key="wrong", max_retries=0).models.list()


def _chromium_or_skip():
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI runs `make test`, which installs it: a missing browser there is a bug
    pytest.skip(message)


def test_page_in_headless_chromium_shows_transcript_prosody_and_streamed_answer(server_url, tmp_path):
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    clip = tmp_path / "question.wav"
    clip.write_bytes(spoken())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page_errors = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.goto(server_url + "/")
            expect(page.locator("#model")).to_contain_text("textpro-untrained")
            expect(page.locator("details.key")).to_have_attribute("open", "")  # the page saw the 401
            page.fill("#apikey", "test-key")
            page.dispatch_event("#apikey", "change")
            page.set_input_files("#file", str(clip))

            expect(page.locator("body")).to_have_attribute("data-state", "done", timeout=60_000)
            expect(page.locator("#error")).to_be_hidden()
            words = page.locator("#transcript .word")
            assert " ".join(words.all_inner_texts()).rstrip("?") == QUESTION.rstrip("?")
            # each word carries its pitch (colour) and energy (size) from the server's per-word readout
            styles = [words.nth(i).get_attribute("style") for i in range(words.count())]
            assert all("font-size" in s and "color" in s for s in styles)
            assert len(set(styles)) > 1
            expect(page.locator("#answer")).to_contain_text("Paris")
            expect(page.locator("#readout dd")).to_have_count(6)
            expect(page.locator("#readout")).to_contain_text("Hz")
            # the contour canvas has ink on it
            painted = page.evaluate("""() => {
                const c = document.getElementById('contour');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")
            assert painted > 500
            if os.environ.get("TEXTPRO_SCREENSHOT"):
                page.screenshot(path=os.environ["TEXTPRO_SCREENSHOT"], full_page=True)
            assert not page_errors, page_errors

            # a file the server cannot read shows its error on the page
            bad = tmp_path / "notes.wav"
            bad.write_bytes(b"not audio" * 100)
            page.set_input_files("#file", str(bad))
            expect(page.locator("#error")).to_be_visible(timeout=30_000)
            expect(page.locator("#error")).to_contain_text("audio")
        finally:
            browser.close()


def test_chromium_is_the_debian_one():
    _chromium_or_skip()
    assert shutil.which("chromium") or os.path.exists(CHROMIUM)
