/*
 * The page rating widget (templates/partials/rating.html), step by step.
 *
 * Without this script the widget is one form showing every question. With
 * it the form goes in the steps of the towns' model: the stars first; once
 * a star is chosen, only the follow-up question that goes with it (where it
 * was hard for 1 to 3 stars, what went well for 4 or 5); then the optional
 * details. It is then sent in the background (as JSON, the same checks as
 * the plain form) and the thanks take the form's place.
 *
 * Texts come from the form's data- attributes, in the page's language.
 * Focus is only moved when a step button is pressed, never while the
 * arrow keys walk through a group of radios.
 */
(function () {
  'use strict';

  const form = document.querySelector('[data-rating-form]');
  if (!form) {
    return;
  }
  const card = form.closest('[data-rating-card]');
  const alertBox = form.querySelector('[data-rating-error]');
  const step = (n) => form.querySelector('[data-rating-step="' + n + '"]');
  const groups = {
    positive: form.querySelector('[data-rating-group="positive"]'),
    negative: form.querySelector('[data-rating-group="negative"]'),
  };

  const stars = () => {
    const checked = form.querySelector('input[name="stars"]:checked');
    return checked ? Number(checked.value) : 0;
  };
  const currentGroup = () => (stars() >= 4 ? groups.positive : groups.negative);
  const answer = () => currentGroup().querySelector('input[name="answer"]:checked');

  // A live region announces best when it is there before its text.
  alertBox.setAttribute('role', 'alert');
  const showError = (text) => {
    alertBox.textContent = text;
    alertBox.hidden = !text;
    // Drawn without the danger style while empty, so that a page with no
    // error carries no error box.
    alertBox.classList.toggle('alert-danger', Boolean(text));
  };

  const show = (n) => {
    step(2).hidden = n !== 2;
    step(3).hidden = n !== 3;
  };

  // The band notes ("if you gave 1 to 3 stars") are for the form showing
  // both groups at once; here only the matching group shows.
  form.querySelectorAll('[data-rating-band]').forEach((el) => {
    el.hidden = true;
  });
  form.querySelectorAll('[data-rating-nav], [data-rating-back]').forEach((el) => {
    el.hidden = false;
  });

  const pickGroup = () => {
    const keep = currentGroup();
    Object.values(groups).forEach((g) => {
      g.hidden = g !== keep;
      if (g !== keep) {
        g.querySelectorAll('input[name="answer"]').forEach((r) => {
          r.checked = false;
        });
      }
    });
  };

  if (stars()) {
    pickGroup();
    show(2);
  } else {
    show(0);
  }

  form.querySelectorAll('input[name="stars"]').forEach((r) => {
    r.addEventListener('change', () => {
      showError('');
      pickGroup();
      if (step(3).hidden) {
        show(2);
      }
    });
  });

  form.querySelector('[data-rating-next]').addEventListener('click', () => {
    if (!answer()) {
      showError(form.dataset.pick);
      currentGroup().querySelector('input[name="answer"]').focus();
      return;
    }
    showError('');
    show(3);
    form.querySelector('textarea[name="comment"]').focus();
  });

  form.querySelectorAll('[data-rating-back]').forEach((btn) => {
    btn.addEventListener('click', () => {
      showError('');
      if (!step(3).hidden) {
        show(2);
        (answer() || currentGroup().querySelector('input[name="answer"]')).focus();
      } else {
        show(0);
        (form.querySelector('input[name="stars"]:checked') || form.querySelector('input[name="stars"]')).focus();
      }
    });
  });

  let sending = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (sending) {
      return;
    }
    sending = true;
    try {
      const res = await fetch(form.action, {
        method: 'POST',
        headers: { Accept: 'application/json' },
        body: new URLSearchParams(new FormData(form)),
        credentials: 'same-origin',
      });
      let body = {};
      try {
        body = await res.json();
      } catch (e) {
        body = {};
      }
      if (!res.ok) {
        showError(body.error || form.dataset.failed);
        alertBox.focus();
        return;
      }
      const thanks = document.createElement('h2');
      thanks.className = 'h4 mb-0';
      thanks.id = 'rating-title';
      thanks.tabIndex = -1;
      thanks.textContent = body.message || form.dataset.thanks;
      card.replaceChildren(thanks);
      thanks.focus();
    } catch (e) {
      showError(form.dataset.failed);
    } finally {
      sending = false;
    }
  });
})();
