// Staff: one prepay job, in the order of seed 002's article — settings (and Prepay →
// Selling) and the price list parents pre-order from, I. names list with access codes and photos, II. order collections (populate,
// place, add a paper order) and manual revision, III. batches to production.
import { useState } from 'react';
import { api } from '../../lib/api';
import { nameOf, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { useServerClock } from '../../lib/clock';
import { allPages } from '../../lib/pages';
import type { JobPhoto, JobSubject, JobSummary } from '../../lib/types';
import { Loaded, Page, StateBadge } from '../../components/ui';
import { Batches } from './job/Batches';
import { CollectionPanel } from './job/Collections';
import { NamesList } from './job/Names';
import { Photos } from './job/Photos';
import { PriceList } from './job/PriceList';
import { Revision } from './job/Revision';
import { JobSettings } from './job/Settings';

export function AdminJob({ id }: { id: string }) {
  useServerClock();
  const dir = useDirectory();
  // Every change reloads the summary and, through `version`, the lists that depend on it.
  const [version, setVersion] = useState(0);
  const job = useResource(() => api.get<JobSummary>(`/v1/jobs/${id}`), [id, version]);
  const subjects = useResource(() => allPages<JobSubject>(`/v1/jobs/${id}/subjects`, {}, (s) => s.id), [id, version]);
  const photos = useResource(() => allPages<JobPhoto>(`/v1/jobs/${id}/photos`, {}, (p) => p.id), [id, version]);
  const changed = () => setVersion((v) => v + 1);
  return (
    <Loaded resource={job}>
      {(j) => {
        const names = subjects.data?.items ?? [];
        const pics = photos.data?.items ?? [];
        const inRevision = j.collections.some((c) => (c.orders.revision ?? 0) > 0);
        return (
          <Page
            title={j.name}
            subtitle={
              <>
                <StateBadge state={j.status} label={j.status === 'prepay' ? 'Prepay' : 'Selling'} /> {nameOf(dir, j.providerId)} · {j.subjects} names · {j.photos} photos
              </>
            }
            actions={
              <button type="button" className="button-secondary" onClick={changed}>
                Refresh
              </button>
            }
          >
            <JobSettings job={j} onChange={changed} />
            <PriceList job={j} onChange={changed} />
            <Loaded resource={subjects}>{(s) => <NamesList jobId={j.id} subjects={s.items} complete={s.complete} onChange={changed} />}</Loaded>
            <Loaded resource={photos}>{(p) => <Photos jobId={j.id} photos={p.items} subjects={names} complete={p.complete} onChange={changed} />}</Loaded>
            {j.collections.map((c) => (
              <CollectionPanel key={c.id} job={j} collection={c} subjects={names} version={version} onChange={changed} />
            ))}
            {j.manualRevision || inRevision ? <Revision jobId={j.id} manualRevision={j.manualRevision} photos={pics} version={version} onChange={changed} /> : null}
            <Batches jobId={j.id} batches={j.batches} version={version} onChange={changed} />
          </Page>
        );
      }}
    </Loaded>
  );
}
