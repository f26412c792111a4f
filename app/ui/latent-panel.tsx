// W space on the page (when the model has one): truncation toward the average w, style mixing from
// a second seed, and the principal directions of w, each an amount with the layer range it moves.
// Every control is a parameter, so MIDI, OSC, modulators, audio and mappings reach them too.
import { param, paramList } from './connection.ts';
import { ParamRow } from './widgets.tsx';

const L = '/netbend/latent/';

export function LatentPanel() {
  if (!param(`${L}truncation`).value) return null;
  const directions = [...new Set(paramList.value.flatMap((a) => /^\/netbend\/latent\/direction\/(\d+)\/amount$/.exec(a)?.[1] ?? []))].sort((a, b) => Number(a) - Number(b));
  return (
    <div class="panel-body" id="latent-panel">
      <div class="block">
        <div class="block-title">w space</div>
        <ParamRow address={`${L}truncation`} label="truncation" kind="source" ticks={[1]} />
        <ParamRow address={`${L}mix/seed`} label="mix seed" kind="source" />
        <ParamRow address={`${L}mix/from`} label="mix from layer" kind="source" />
      </div>
      <div class="block">
        <div class="block-title">
          directions <span class="count num">{directions.length}</span>
        </div>
        {directions.map((k) => (
          <div class="direction" data-direction={k}>
            <ParamRow address={`${L}direction/${k}/amount`} label={`direction ${k}`} kind="source" ticks={[0]} />
            <div class="direction-range">
              <ParamRow address={`${L}direction/${k}/from`} label="from layer" showAddress={false} />
              <ParamRow address={`${L}direction/${k}/to`} label="to" showAddress={false} />
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
