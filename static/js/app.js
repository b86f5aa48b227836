// Site-wide behaviour. Each feature adds its own small module under static/js/.
import "./menus.js";
import "./install.js";

// Flash messages fade after a while but stay readable by screen readers until then.
for (const item of document.querySelectorAll(".flash-item")) {
  setTimeout(() => item.classList.add("flash-fade"), 6000);
}
