import { useTitle } from '../lib/hooks';
import { EmptyState } from '../components/ui';

export function NotFound() {
  useTitle('Not found');
  return (
    <div class="page">
      <EmptyState title="This page does not exist">
        <p>The link may be broken, or the page may have moved.</p>
        <a class="btn primary" href="/">Go to live channels</a>
      </EmptyState>
    </div>
  );
}
