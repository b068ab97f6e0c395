// A modal dialog on the native <dialog> element: it traps focus, closes on
// Escape, and gives focus back to what opened it. Loaded by the money views.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import * as I from './icons';
import './modal.css';

export function Modal({ id, title, onClose, children, wide }: {
  id: string; title: string; onClose: () => void; children: ComponentChildren; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => { opener?.focus?.(); };
  }, []);
  return (
    <dialog ref={ref} class={wide ? 'modal wide' : 'modal'} aria-labelledby={`${id}-h`} data-testid={id}
      onClose={() => close.current()}
      onClick={(e) => { if (e.target === ref.current) ref.current?.close(); }}>
      <div class="modal-body">
        <header class="modal-head">
          <h2 id={`${id}-h`}>{title}</h2>
          <button type="button" class="icon-btn small" aria-label="Close" onClick={() => ref.current?.close()}><I.Close size={16} /></button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
