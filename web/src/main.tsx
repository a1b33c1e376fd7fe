import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { FeedbackProvider } from './components/Feedback';
import { SessionProvider } from './lib/session';
import './styles.css';

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SessionProvider>
      <FeedbackProvider>
        <App />
      </FeedbackProvider>
    </SessionProvider>
  </StrictMode>,
);
