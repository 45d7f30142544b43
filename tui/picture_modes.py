"""How screens that draw pictures (the run preview, the experiments view) draw them: through a terminal
graphics protocol where the terminal has one, else as text in colour half-blocks or shades; ``g`` and
``m`` switch. A screen mixes this in, calls :meth:`choose_renderer` when mounted and implements
:meth:`redraw`."""

from __future__ import annotations


class PictureModes:
    mode: str | None = None          # text renderer: "color" (half blocks) or "shade"
    renderer = "text"                # "graphics" or "text"
    protocol: str | None = None      # the graphics protocol, if the terminal has one
    protocol_reason = ""
    _graphics_option: str | None = None

    def choose_renderer(self) -> None:
        from sigdae.tui import graphics, render

        self.mode = render.auto_mode(self.app.console.color_system)
        option = self._graphics_option or getattr(self.app, "graphics", "auto")
        self.protocol, self.protocol_reason = graphics.choose(self.app, option)
        self.renderer = "graphics" if self.protocol else "text"

    def redraw(self) -> None:
        raise NotImplementedError

    def action_toggle_renderer(self) -> None:
        if self.renderer == "graphics":
            self.renderer = "text"
        elif self.protocol is None:
            from sigdae.tui.graphics import ENV

            self.notify(f"text only: {self.protocol_reason}. Set {ENV}=kitty or {ENV}=sixel to force graphics.",
                        severity="warning")
            return
        else:
            self.renderer = "graphics"
        self.redraw()

    def action_toggle_mode(self) -> None:
        self.mode = "shade" if self.mode == "color" else "color"
        if self.renderer == "graphics":
            self.notify(f"text renderer set to {self.mode}; g switches to text")
        self.redraw()
