// The card field of the buyer pages.
/**
 * The card adapter: where a real tokenizing card form would plug in. Here the built-in simulator's funding
 * instrument URIs stand in for card tokens (README, "Processor and simulator"). Shared by the buyer pages
 * (checkout, hosted invoice).
 */
export const cardAdapter = {
  render(container) {
    container.innerHTML = `
      <label for="card">Card</label>
      <input id="card" name="card" autocomplete="off" spellcheck="false" value="/v1/cards/visa"
        aria-describedby="card-hint">
      <p class="hint" id="card-hint">Test mode: a funding instrument of the simulator, such as <code>/v1/cards/visa</code>
        (succeeds), <code>/v1/cards/hard_decline</code> (declined) or <code>/v1/cards/pending</code>.</p>`;
  },
  token: () => document.getElementById("card").value.trim(),
};
