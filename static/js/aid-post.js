// The help board's post form: while a resident types, say so when the text holds something that
// reads as a phone number or a room (the board hides them; services.helpboard.mask_contacts is
// the rule that counts, this only warns). Without JavaScript the field's hint says the same.
const hint = document.getElementById("contact-hint");
const form = hint && hint.closest("main").querySelector("form");
// Full-width digits, plus and dash read as ASCII, as the server reads them.
const halfWidth = (text) =>
  text.replace(/[０-９＋－]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
const gap = "[ \\-—–.·]?";
const contact = new RegExp(
  "(?<![0-9])(?:" +
    [
      `(?:\\+?86${gap})?1[3-9][0-9](?:${gap}[0-9]){8}`,
      `(?:0[0-9]{2,3}${gap})?[2-9][0-9]{2,3}${gap}[0-9]{4}`,
      "[0-9]{1,3} ?(?:号楼|栋|幢|座|楼|-) ?[0-9]{1,2} ?(?:单元|门|-) ?[0-9]{1,6}",
      "[0-9]{1,3} ?(?:号楼|栋|幢|座) ?[0-9]{3,4}",
      "[0-9]{1,2} ?单元 ?[0-9]{2,6}",
      "[0-9]{3,4} ?(?:室|房|户)",
      "[0-9]{1,3}-[0-9]{3,4}",
    ].join("|") +
    ")(?![0-9])",
);

function check(field) {
  const found = [...form.querySelectorAll("input[type=text], textarea")].some((input) =>
    contact.test(halfWidth(input.value)),
  );
  if (found && field) field.closest(".field").after(hint);  // beside what is being typed
  hint.hidden = !found;
}

if (form) {
  form.addEventListener("input", (event) => check(event.target));
  check(null);
}
