// Lists channels from the JSON API. Text is set with textContent only, so
// channel names are never interpreted as HTML.
const list = document.getElementById("channels");
const state = document.getElementById("state");

function card(ch) {
  const li = document.createElement("li");
  li.className = "card";
  const media = document.createElement(ch.live && ch.status.thumbnail_path ? "img" : "div");
  if (media.tagName === "IMG") {
    media.src = ch.status.thumbnail_path + "?t=" + Date.now();
    media.alt = "Thumbnail of " + ch.display_name;
  } else {
    media.className = "ph";
  }
  const body = document.createElement("div");
  const badge = document.createElement("span");
  badge.className = ch.live ? "badge" : "badge off";
  badge.textContent = ch.live ? "LIVE" : "OFFLINE";
  const name = document.createElement("strong");
  name.textContent = ch.display_name;
  const url = document.createElement("code");
  url.textContent = location.origin + ch.playback_path;
  body.append(badge, name, document.createElement("br"), url);
  li.append(media, body);
  return li;
}

async function refresh() {
  try {
    const res = await fetch("/api/v1/channels");
    if (!res.ok) throw new Error("HTTP " + res.status);
    const { channels } = await res.json();
    list.replaceChildren(...channels.map(card));
    state.textContent = channels.length ? "" : "No channels yet. Create one with: livehouse channel create <slug>";
  } catch (e) {
    state.textContent = "Could not load channels (" + e.message + "). Retrying…";
  }
}
refresh();
setInterval(refresh, 10000);
