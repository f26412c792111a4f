// The sketch pad: for an image input (ML Sketching's drawing, a pix2pix-style net's input), a
// canvas at the input's own size, drawn with a brush (size, grey or colour, eraser), cleared, and
// undone stroke by stroke. While the pen moves the picture goes to the engine a few times a second
// (a small PNG), which feeds it to the net while the input's `sketch` switch is on; the first
// stroke turns the switch on.
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentValue, notice, send, setParam } from './connection.ts';
import { Segmented } from './segmented.tsx';

interface Stroke {
  color: string;
  size: number;
  points: Array<[number, number]>;
}

/** Most PNG characters a sketch may be (the command must fit the socket's 64 KiB message). */
const MAX_PNG_CHARS = 60_000;
const SEND_EVERY_MS = 80;
const BACKGROUND = '#000000';

export function SketchPad({ input, width, height }: { input: string; width: number; height: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const strokes = useRef<Stroke[]>([]);
  const drawing = useRef<Stroke | null>(null);
  const lastSent = useRef(0);
  const pending = useRef<number | undefined>(undefined);
  const [size, setSize] = useState(Math.max(2, Math.round(width / 24)));
  const [tool, setTool] = useState<'grey' | 'colour' | 'eraser'>('grey');
  const [grey, setGrey] = useState(255);
  const [colour, setColour] = useState('#ff5a36');
  const [count, setCount] = useState(0);
  const address = `/netbend/source/${input}/sketch`;

  const paint = () => {
    const ctx = ref.current!.getContext('2d')!;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, width, height);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const s of [...strokes.current, ...(drawing.current ? [drawing.current] : [])]) {
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = s.size;
      ctx.beginPath();
      const [x0, y0] = s.points[0]!;
      ctx.moveTo(x0, y0);
      if (s.points.length === 1) {
        ctx.arc(x0, y0, s.size / 2, 0, Math.PI * 2);
        ctx.fill();
        continue;
      }
      for (const [x, y] of s.points.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
  };

  const ship = () => {
    pending.current = undefined;
    lastSent.current = performance.now();
    const png = ref.current!.toDataURL('image/png').slice('data:image/png;base64,'.length);
    if (png.length > MAX_PNG_CHARS) return notice('warning', `the sketch is too detailed to send (${Math.round(png.length / 1024)} KB); clear some of it`);
    void send({ cmd: 'sketch', input, png }).catch(() => {});
  };
  /** At most one picture per SEND_EVERY_MS while drawing, and always the last one. */
  const schedule = () => {
    if (pending.current !== undefined) return;
    const wait = Math.max(0, SEND_EVERY_MS - (performance.now() - lastSent.current));
    pending.current = window.setTimeout(ship, wait);
  };

  useEffect(() => {
    paint();
    return () => clearTimeout(pending.current);
  }, [width, height]);

  const at = (e: PointerEvent): [number, number] => {
    const r = ref.current!.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * width, ((e.clientY - r.top) / r.height) * height];
  };
  const color = tool === 'eraser' ? BACKGROUND : tool === 'grey' ? `rgb(${grey},${grey},${grey})` : colour;
  const changed = () => {
    paint();
    setCount(strokes.current.length);
    schedule();
  };
  return (
    <div class="sketch" data-sketch={input}>
      <canvas
        ref={ref}
        width={width}
        height={height}
        class="sketch-canvas"
        style={{ aspectRatio: `${width} / ${height}` }}
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          ref.current!.setPointerCapture(e.pointerId);
          drawing.current = { color, size, points: [at(e)] };
          if (currentValue(address) !== true) setParam(address, true);
          changed();
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          drawing.current.points.push(at(e));
          changed();
        }}
        onPointerUp={() => {
          if (!drawing.current) return;
          strokes.current.push(drawing.current);
          drawing.current = null;
          changed();
        }}
        onPointerCancel={() => {
          drawing.current = null;
          changed();
        }}
      />
      <div class="sketch-tools">
        <Segmented
          label="brush"
          value={tool}
          options={[
            ['grey', 'grey'],
            ['colour', 'colour'],
            ['eraser', 'eraser'],
          ]}
          onChange={setTool}
        />
        {tool === 'grey' && <input type="range" min={0} max={255} value={grey} aria-label="grey level" title="grey level" onInput={(e) => setGrey(Number((e.target as HTMLInputElement).value))} />}
        {tool === 'colour' && <input type="color" value={colour} aria-label="colour" onInput={(e) => setColour((e.target as HTMLInputElement).value)} />}
        <label class="sketch-size" title="brush size, in the input's pixels">
          size
          <input type="range" min={1} max={Math.max(8, Math.round(width / 4))} value={size} aria-label="brush size" onInput={(e) => setSize(Number((e.target as HTMLInputElement).value))} />
        </label>
        <button
          type="button"
          data-sketch-undo
          disabled={count === 0}
          title="undo the last stroke"
          onClick={() => {
            strokes.current.pop();
            changed();
          }}
        >
          undo stroke
        </button>
        <button
          type="button"
          data-sketch-clear
          disabled={count === 0}
          onClick={() => {
            strokes.current = [];
            changed();
          }}
        >
          clear
        </button>
      </div>
    </div>
  );
}
