// The shell's menus are <details> elements (they open and close without this). This adds
// what a menu is expected to do: close on Escape (focus back on its button), on a click
// outside, and when another menu opens.
const menus = [...document.querySelectorAll("[data-menu]")];

for (const menu of menus) {
  menu.addEventListener("toggle", () => {
    if (menu.open) for (const other of menus) if (other !== menu) other.open = false;
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}

document.addEventListener("click", (event) => {
  for (const menu of menus) if (menu.open && !menu.contains(event.target)) menu.open = false;
});
